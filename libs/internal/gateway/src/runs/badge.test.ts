import { describe, expect, it } from 'vitest';
import { badgeOfRun, badgeSvg } from './badge.js';
import { pathEscape, runGroupOf } from './create-runs.js';

describe('badgeOfRun', () => {
  it('maps the last run to Agola badge states', () => {
    expect(badgeOfRun(undefined)).toBe('unknown');
    expect(badgeOfRun({ phase: 'queued', result: 'unknown' })).toBe('inprogress');
    expect(badgeOfRun({ phase: 'running', result: 'unknown' })).toBe('inprogress');
    expect(badgeOfRun({ phase: 'setuperror', result: 'unknown' })).toBe('error');
    expect(badgeOfRun({ phase: 'cancelled', result: 'unknown' })).toBe('failed');
    expect(badgeOfRun({ phase: 'finished', result: 'success' })).toBe('success');
    expect(badgeOfRun({ phase: 'finished', result: 'failed' })).toBe('failed');
    expect(badgeOfRun({ phase: 'finished', result: 'stopped' })).toBe('failed');
  });

  it('draws an SVG naming the state', () => {
    const svg = badgeSvg('success');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('>success</text>');
    expect(svg).toContain('#4c1');
    expect(svg).not.toBe(badgeSvg('failed'));
  });
});

describe('run groups', () => {
  it('escape the ref name as Go url.PathEscape', () => {
    expect(pathEscape('feature/x y')).toBe('feature%2Fx%20y');
    expect(pathEscape("a+b:c@d=e&f$g!'()*")).toBe('a+b:c@d=e&f$g%21%27%28%29%2A');
    expect(runGroupOf('project', 'pid', 'branch', 'feat/1')).toBe('/project/pid/branch/feat%2F1');
    expect(runGroupOf('project', 'pid', 'pull_request', '7')).toBe('/project/pid/pr/7');
    expect(runGroupOf('user', 'uid', 'tag', 'v1.0')).toBe('/user/uid/tag/v1.0');
  });
});

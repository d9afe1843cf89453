import { describe, expect, it } from 'vitest';
import { duration, runSource, runStatus, timeAgo } from './run-status.js';

describe('run status', () => {
  it('is the phase until finished, then the result; waiting when a task awaits approval', () => {
    const run = (phase: string, result = 'unknown', waiting: string[] = []) =>
      runStatus({ phase, result, tasks_waiting_approval: waiting } as never);
    expect(run('queued')).toBe('queued');
    expect(run('running')).toBe('running');
    expect(run('running', 'unknown', ['t1'])).toBe('waiting');
    expect(run('finished', 'success')).toBe('success');
    expect(run('finished', 'failed')).toBe('failed');
    expect(run('finished', 'stopped')).toBe('stopped');
    expect(run('cancelled')).toBe('cancelled');
    expect(run('setuperror')).toBe('setuperror');
    expect(run('finished', 'weird')).toBe('unknown');
  });

  it('names where a run came from', () => {
    expect(runSource({ branch: 'main', ref: 'refs/heads/main' })).toBe('branch main');
    expect(runSource({ tag: 'v1.0', ref: 'refs/tags/v1.0' })).toBe('tag v1.0');
    expect(runSource({ pull_request_id: '3', branch: 'feature' })).toBe('PR #3');
    expect(runSource({ ref: 'refs/x' })).toBe('refs/x');
    expect(runSource(undefined)).toBe('');
  });

  it('formats times relative to now', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(timeAgo('2026-12-01T11:59:30Z', now)).toBe('30 s ago');
    expect(timeAgo('2026-12-01T11:45:00Z', now)).toBe('15 min ago');
    expect(timeAgo('2026-12-01T09:00:00Z', now)).toBe('3 h ago');
    expect(timeAgo('2026-11-20T09:00:00Z', now)).toBe('2026-11-20');
    expect(timeAgo(null, now)).toBe('');
    expect(duration('2026-12-01T11:58:55Z', '2026-12-01T12:00:00Z', now)).toBe('1 min 5 s');
    expect(duration('2026-12-01T11:59:50Z', null, now)).toBe('10 s');
    expect(duration(null, null, now)).toBe('');
  });
});

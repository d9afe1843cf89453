import { describe, expect, it } from 'vitest';
import { formatTime, runCommit, runRef, runStateLabel } from './run-info.js';

describe('run info', () => {
  it('finds the branch, tag, pull request or ref of a run', () => {
    expect(runRef({ branch: 'main', branch_link: 'https://forge/acme/app/src/main' })).toEqual({
      kind: 'branch',
      name: 'main',
      link: 'https://forge/acme/app/src/main',
    });
    expect(runRef({ tag: 'v1', tag_link: '' })).toEqual({
      kind: 'tag',
      name: 'v1',
      link: undefined,
    });
    expect(runRef({ pull_request_id: '7', pull_request_link: 'http://f/pr/7' })).toEqual({
      kind: 'pull request',
      name: '#7',
      link: 'http://f/pr/7',
    });
    expect(runRef({ ref: 'refs/heads/x' })).toEqual({
      kind: 'ref',
      name: 'refs/heads/x',
      link: undefined,
    });
    expect(runRef({})).toBeUndefined();
    expect(runRef(null)).toBeUndefined();
  });

  it('never links anything but http(s)', () => {
    expect(runRef({ branch: 'b', branch_link: 'javascript:alert(1)' })?.link).toBeUndefined();
    expect(runCommit({ commit_sha: 'a', commit_link: 'data:text/html,x' }).link).toBeUndefined();
  });

  it('splits the commit message and shortens the sha', () => {
    const c = runCommit({
      commit_sha: '0123456789abcdef0123',
      message: 'fix: the thing\n\nlonger text\n',
      commit_link: 'https://forge/c/0123',
    });
    expect(c).toEqual({
      sha: '0123456789abcdef0123',
      shortSha: '01234567',
      link: 'https://forge/c/0123',
      title: 'fix: the thing',
      body: 'longer text',
    });
    // inherited keys are not annotations
    expect(runCommit({}).title).toBe('');
    expect(runRef(Object.create({ branch: 'proto' }) as Record<string, string>)).toBeUndefined();
  });

  it('labels the run state', () => {
    expect(runStateLabel({ phase: 'finished', result: 'failed' })).toBe('failed');
    expect(runStateLabel({ phase: 'running', result: 'unknown' })).toBe('running');
    expect(runStateLabel({ phase: 'running', result: 'unknown', stopping: true })).toBe('stopping');
    expect(runStateLabel({ phase: 'running', result: 'failed' })).toBe('running (failed)');
    expect(runStateLabel({ phase: 'queued', result: 'unknown' })).toBe('queued');
  });

  it('formats times, empty when absent or invalid', () => {
    expect(formatTime(null)).toBe('');
    expect(formatTime('nope')).toBe('');
    expect(formatTime('2026-12-01T10:00:00Z')).toBe(
      new Date('2026-12-01T10:00:00Z').toLocaleString(),
    );
  });
});

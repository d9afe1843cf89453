import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { contextOfRef, matchWhen, parseConfigSync, whenTargetOf } from '../src/index.js';

interface WhenCase {
  name: string;
  when: unknown;
  ref: string;
  expected: boolean;
}

const cases = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'when.json'), 'utf8'),
) as WhenCase[];

/** Parses a `when` through a whole config, so the table also covers its parsing. */
function whenOf(raw: unknown) {
  const task: Record<string, unknown> = { name: 't', runtime: { containers: [{ image: 'a' }] } };
  if (raw !== null) task['when'] = raw;
  return parseConfigSync(JSON.stringify({ runs: [{ name: 'r', tasks: [task] }] }), {
    path: 'c.json',
  }).runs[0]!.tasks[0]!.when;
}

describe('when table', () => {
  test('has cases for branch, tag, ref, regex and exclude', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ctx = contextOfRef(c.ref, 'sha');
    expect(ctx).toBeDefined();
    expect(matchWhen(whenOf(c.when), whenTargetOf(ctx!))).toBe(c.expected);
  });
});

describe('refs', () => {
  test('contextOfRef knows branches, tags and pull requests', () => {
    expect(contextOfRef('refs/heads/feature/x', 's')).toEqual({
      ref_type: 'branch',
      ref: 'refs/heads/feature/x',
      branch: 'feature/x',
      tag: '',
      pull_request_id: '',
      commit_sha: 's',
    });
    expect(contextOfRef('refs/tags/v1')?.tag).toBe('v1');
    expect(contextOfRef('refs/pull/9/head')?.pull_request_id).toBe('9');
    expect(contextOfRef('refs/merge-requests/3/head')?.ref_type).toBe('pull_request');
    expect(contextOfRef('refs/notes/x')).toBeUndefined();
  });
});

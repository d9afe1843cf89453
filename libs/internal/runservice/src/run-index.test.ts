import type { Run } from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import { RunIndex } from './run-index.js';

const run = (id: string, group: string, counter: number, phase: Run['phase'] = 'queued'): Run => ({
  id,
  name: 'r',
  counter,
  group,
  phase,
  result: 'unknown',
  tasks: {},
  archived: false,
});

describe('RunIndex', () => {
  it('is not synced until reset, then finds a run by group prefix and counter (highest id)', () => {
    const ix = new RunIndex();
    expect(ix.synced).toBe(false);
    expect(ix.revision).toBe(0n);
    ix.reset(
      [
        { value: run('a1', '/project/p1/branch/main', 1), revision: 5n },
        { value: run('a2', '/project/p1/branch/dev', 1), revision: 6n },
        { value: run('a3', '/project/p10/branch/main', 1), revision: 7n },
        { value: run('a4', '/project/p1/branch/main', 2), revision: 8n },
      ],
      10n,
    );
    expect(ix.synced).toBe(true);
    expect(ix.revision).toBe(10n);
    expect(ix.byGroupCounter('/project/p1/branch/main', 1)?.id).toBe('a1');
    expect(ix.byGroupCounter('/project/p1', 1)?.id).toBe('a2');
    // p1 is not a prefix of p10's group path
    expect(ix.byGroupCounter('/project/p10/', 1)?.id).toBe('a3');
    expect(ix.byGroupCounter('/project/p1/branch/main', 3)).toBeUndefined();
    ix.unsync();
    expect(ix.synced).toBe(false);
  });

  it('ignores a watch event older than an own write; a counter change moves the run', () => {
    const ix = new RunIndex();
    ix.reset([], 1n);
    ix.apply('r', run('r', '/g', 1, 'running'), 20n);
    ix.apply('r', run('r', '/g', 1, 'queued'), 15n);
    expect(ix.get('r')?.phase).toBe('running');
    ix.apply('r', run('r', '/g', 2, 'finished'), 21n);
    expect(ix.byGroupCounter('/g', 1)).toBeUndefined();
    expect(ix.byGroupCounter('/g', 2)?.phase).toBe('finished');
  });

  it('keeps a deleted run out until the watch passed its delete, then forgets it', () => {
    const ix = new RunIndex();
    ix.reset([{ value: run('r', '/g', 1), revision: 3n }], 3n);
    ix.apply('r', undefined, 9n);
    expect(ix.get('r')).toBeUndefined();
    // the watch still delivers an older put of it
    ix.apply('r', run('r', '/g', 1, 'running'), 7n);
    expect(ix.byGroupCounter('/g', 1)).toBeUndefined();
    expect(ix.size).toBe(0);
    ix.advance(9n);
    expect(ix.revision).toBe(9n);
    // tombstone gone: a (hypothetical) newer put is taken again
    ix.apply('r', run('r', '/g', 1, 'running'), 12n);
    expect(ix.get('r')?.phase).toBe('running');
  });

  it('a full reload keeps own writes newer than the list', () => {
    const ix = new RunIndex();
    ix.reset([], 1n);
    ix.apply('new', run('new', '/g', 4), 30n);
    ix.apply('gone', undefined, 31n);
    ix.reset(
      [
        { value: run('old', '/g', 3), revision: 10n },
        { value: run('gone', '/g', 5), revision: 12n },
      ],
      25n,
    );
    expect(ix.get('new')?.counter).toBe(4);
    expect(ix.get('old')?.counter).toBe(3);
    expect(ix.get('gone')).toBeUndefined();
  });
});

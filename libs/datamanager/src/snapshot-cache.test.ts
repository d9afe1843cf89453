import { describe, expect, test } from 'vitest';
import { SnapshotCache } from './snapshot-cache.js';
import type { DataStatus } from './types.js';

const status = (walSequence: string): DataStatus => ({
  dataSequence: walSequence,
  walSequence,
  files: {},
});

describe('SnapshotCache', () => {
  test('a load started before an invalidation is not what later reads get', async () => {
    let current = status('0000000000001-0000000000001');
    let release!: () => void;
    let slow = true;
    const cache = new SnapshotCache(async () => {
      const seen = current;
      if (slow) await new Promise<void>((r) => (release = r));
      return seen;
    });
    const first = cache.get(); // loads the old snapshot, slowly
    await new Promise((r) => setTimeout(r, 5));
    current = status('0000000000001-0000000000002');
    cache.invalidate();
    slow = false;
    const second = cache.get(); // must not reuse the old in-flight load
    release();
    expect((await first)!.walSequence).toBe('0000000000001-0000000000001');
    expect((await second)!.walSequence).toBe('0000000000001-0000000000002');
    expect((await cache.get())!.walSequence).toBe('0000000000001-0000000000002');
  });

  test('a required wal makes reads wait for a snapshot that holds it', async () => {
    let loads = 0;
    const cache = new SnapshotCache(async () => {
      loads++;
      return status(loads < 3 ? '0000000000001-0000000000004' : '0000000000001-0000000000005');
    });
    expect((await cache.get())!.walSequence).toBe('0000000000001-0000000000004');
    cache.require('0000000000001-0000000000005');
    expect((await cache.get())!.walSequence).toBe('0000000000001-0000000000005');
    expect(loads).toBe(3);
  });

  test('a required wal that never shows up is an error, not a stale read', async () => {
    const cache = new SnapshotCache(async () => status('0000000000001-0000000000001'), 100);
    cache.require('0000000000001-0000000000009');
    await expect(cache.get()).rejects.toThrow(
      'no data snapshot includes wal 0000000000001-0000000000009 yet',
    );
  });
});

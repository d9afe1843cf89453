import { describe, expect, it } from 'vitest';
import { createReadCache } from './read-cache.js';

/** A load whose calls are counted and whose answers the test releases. */
function deferredLoads<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  let calls = 0;
  return {
    load: () =>
      new Promise<T>((resolve, reject) => {
        calls++;
        pending.push({ resolve, reject });
      }),
    get calls() {
      return calls;
    },
    resolveNext: (v: T) => pending.shift()!.resolve(v),
    rejectNext: (e: unknown) => pending.shift()!.reject(e),
  };
}

describe('read cache', () => {
  it('identical lookups in flight share one load; with ttl 0 nothing is kept after it', async () => {
    const cache = createReadCache({ maxEntries: 10 });
    const d = deferredLoads<string>();
    const a = cache.get('k', d.load, () => 0);
    const b = cache.get('k', d.load, () => 0);
    expect(d.calls).toBe(1);
    d.resolveNext('v1');
    expect(await a).toBe('v1');
    expect(await b).toBe('v1');
    const c = cache.get('k', d.load, () => 0);
    expect(d.calls).toBe(2);
    d.resolveNext('v2');
    expect(await c).toBe('v2');
    expect(cache.size).toBe(0);
  });

  it('keeps a result for its ttl, then loads again', async () => {
    let t = 1000;
    const cache = createReadCache({ maxEntries: 10, now: () => t });
    let calls = 0;
    const load = async () => ++calls;
    expect(await cache.get('k', load, () => 500)).toBe(1);
    t += 499;
    expect(await cache.get('k', load, () => 500)).toBe(1);
    t += 1;
    expect(await cache.get('k', load, () => 500)).toBe(2);
    // the ttl may depend on the value (archived runs only)
    expect(await cache.get('odd', load, (v) => (v % 2 === 1 ? 500 : 0))).toBe(3);
    expect(await cache.get('odd', load, (v) => (v % 2 === 1 ? 500 : 0))).toBe(3);
    expect(await cache.get('even', load, (v) => (v % 2 === 1 ? 500 : 0))).toBe(4);
    expect(await cache.get('even', load, (v) => (v % 2 === 1 ? 500 : 0))).toBe(5);
  });

  it('never keeps failures: every waiter gets the error, the next lookup loads again', async () => {
    const cache = createReadCache({ maxEntries: 10 });
    const d = deferredLoads<string>();
    const a = cache.get('k', d.load, () => 10_000);
    const b = cache.get('k', d.load, () => 10_000);
    d.rejectNext(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    const c = cache.get('k', d.load, () => 10_000);
    expect(d.calls).toBe(2);
    d.resolveNext('up');
    expect(await c).toBe('up');
  });

  it('clear() drops kept results and lookups in flight; an in-flight result is then not kept', async () => {
    const cache = createReadCache({ maxEntries: 10 });
    const d = deferredLoads<string>();
    expect(
      await cache.get(
        'kept',
        async () => 'old',
        () => 10_000,
      ),
    ).toBe('old');
    const before = cache.get('k', d.load, () => 10_000);
    cache.clear();
    expect(
      await cache.get(
        'kept',
        async () => 'new',
        () => 10_000,
      ),
    ).toBe('new');
    // a lookup after the clear does not join the one started before it
    const after = cache.get('k', d.load, () => 10_000);
    expect(d.calls).toBe(2);
    d.resolveNext('pre-write');
    d.resolveNext('post-write');
    expect(await before).toBe('pre-write');
    expect(await after).toBe('post-write');
    expect(await cache.get('k', d.load, () => 10_000)).toBe('post-write');
    expect(d.calls).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = createReadCache({ maxEntries: 2 });
    let calls = 0;
    const load = async () => ++calls;
    await cache.get('a', load, () => 10_000);
    await cache.get('b', load, () => 10_000);
    await cache.get('c', load, () => 10_000);
    expect(cache.size).toBe(2);
    expect(await cache.get('c', load, () => 10_000)).toBe(3);
    expect(await cache.get('a', load, () => 10_000)).toBe(4);
  });

  it('reuseKept: false skips a kept result but still shares a lookup in flight', async () => {
    const cache = createReadCache({ maxEntries: 10 });
    let calls = 0;
    const load = async () => ++calls;
    expect(await cache.get('k', load, () => 10_000)).toBe(1);
    expect(await cache.get('k', load, () => 10_000)).toBe(1);
    expect(await cache.get('k', load, () => 10_000, { reuseKept: false })).toBe(2);
    // its result is kept for the others
    expect(await cache.get('k', load, () => 10_000)).toBe(2);
    const d = deferredLoads<string>();
    const first = cache.get('f', d.load, () => 0);
    const write = cache.get('f', d.load, () => 0, { reuseKept: false });
    expect(d.calls).toBe(1);
    d.resolveNext('shared');
    expect(await first).toBe('shared');
    expect(await write).toBe('shared');
  });
});

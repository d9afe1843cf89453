import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { startEtcd } from '@agola-ts/testkit';
import { createEtcdClient, EtcdErrorCodes, type WatchResponse } from '../src/index.js';
import { testClient } from './helpers.js';

describe('watch', () => {
  test('delivers puts and deletes under the prefix from the start revision', async () => {
    const c = await testClient('watch');
    try {
      const start = (await c.put('w/before', '0')) + 1n;
      await c.put('w/a', '1');
      await c.put('outside', 'x');
      await c.delete('w/before');
      const seen: string[] = [];
      const ac = new AbortController();
      const done = (async () => {
        for await (const res of c.watch('w/', { startRevision: start, signal: ac.signal })) {
          for (const e of res.events) seen.push(`${e.type} ${e.kv.key} ${e.kv.value.toString()}`);
          expect(res.revision).toBeGreaterThanOrEqual(start);
          if (seen.length === 3) ac.abort();
        }
      })();
      await c.put('w/b', '2');
      await done;
      expect(seen).toEqual(['put w/a 1', 'delete w/before ', 'put w/b 2']);
    } finally {
      c.close();
    }
  });

  test('breaking out of the loop cancels the watch', async () => {
    const c = await testClient('watch');
    try {
      const start = await c.put('k', '1');
      let got: WatchResponse | undefined;
      for await (const res of c.watch('', { startRevision: start })) {
        got = res;
        break;
      }
      expect(got?.events[0]?.kv.key).toBe('k');
    } finally {
      c.close();
    }
  });

  test('a compacted start revision ends the watch with ERR_ETCD_COMPACTED', async () => {
    const etcd = await startEtcd();
    const c = createEtcdClient({ endpoints: etcd.endpoint, prefix: 'x/' });
    try {
      const first = await c.put('k', '1');
      await c.put('k', '2');
      const last = await c.put('k', '3');
      await c.compact(last);
      const err = await (async () => {
        for await (const _ of c.watch('', { startRevision: first })) {
          // nothing can arrive
        }
      })().catch((e: unknown) => e);
      expect(is(err, EtcdErrorCodes.Compacted)).toBe(true);
      expect(String((err as Error).message)).toContain(`revision ${first} has been compacted`);
      // reads below the compaction point are compacted too
      expect(
        is(
          await c.get('k', { revision: first }).catch((e: unknown) => e),
          EtcdErrorCodes.Compacted,
        ),
      ).toBe(true);
    } finally {
      c.close();
      await etcd.stop();
    }
  });

  test('a dropped connection ends the watch with ERR_ETCD_UNAVAILABLE', async () => {
    const etcd = await startEtcd();
    const c = createEtcdClient({ endpoints: etcd.endpoint, prefix: 'x/' });
    try {
      const start = await c.put('k', '1');
      const it = c.watch('', { startRevision: start + 1n });
      // handled at once: the rejection arrives while etcd is being killed
      const next = it.next().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      await etcd.kill();
      const err = await next;
      expect(is(err, EtcdErrorCodes.Unavailable)).toBe(true);
    } finally {
      c.close();
      await etcd.stop();
    }
  });
});

describe('watch cancellation', () => {
  test('a signal aborted while the watch is being created still ends it', async () => {
    const c = await testClient('watch');
    try {
      const ac = new AbortController();
      const it = c.watch('', { startRevision: 1n, signal: ac.signal });
      const next = it.next(); // starts creating the watch
      ac.abort(); // before etcd answered
      expect(await next).toEqual({ done: true, value: undefined });
    } finally {
      c.close();
    }
  });
});

describe('watch after compaction', () => {
  test('a second watch on the same client works after a compacted one ended', async () => {
    const etcd = await startEtcd();
    const c = createEtcdClient({ endpoints: etcd.endpoint, prefix: 'y/' });
    try {
      const first = await c.put('k', '1');
      const last = await c.put('k', '2');
      await c.compact(last);
      const err = await (async () => {
        for await (const _ of c.watch('', { startRevision: first })) {
          // nothing
        }
      })().catch((e: unknown) => e);
      expect(is(err, EtcdErrorCodes.Compacted)).toBe(true);
      const ac = new AbortController();
      const seen: string[] = [];
      const done = (async () => {
        for await (const res of c.watch('', { startRevision: last + 1n, signal: ac.signal })) {
          seen.push(...res.events.map((e) => e.kv.value.toString()));
          ac.abort();
        }
      })();
      await c.put('k', '3');
      await done;
      expect(seen).toEqual(['3']);
    } finally {
      c.close();
      await etcd.stop();
    }
  });
});

describe('watch coalescing', () => {
  test('responses waiting for a slow consumer arrive as one, in order', async () => {
    const c = await testClient('watch');
    try {
      const start = (await c.put('k', '0')) + 1n;
      const ac = new AbortController();
      const batches: string[][] = [];
      const it = c.watch('', { startRevision: start, signal: ac.signal, coalesce: true });
      const first = it.next();
      for (let i = 1; i <= 5; i++) await c.put('k', String(i)); // separate responses
      const r1 = await first;
      batches.push((r1.value as WatchResponse).events.map((e) => e.kv.value.toString()));
      await new Promise((r) => setTimeout(r, 300)); // a slow consumer: the rest queue up
      while (batches.flat().length < 5) {
        const r = await it.next();
        batches.push((r.value as WatchResponse).events.map((e) => e.kv.value.toString()));
      }
      expect(batches.flat()).toEqual(['1', '2', '3', '4', '5']);
      expect(batches.length).toBeLessThan(5);
      ac.abort();
      await it.return(undefined);
    } finally {
      c.close();
    }
  });
});

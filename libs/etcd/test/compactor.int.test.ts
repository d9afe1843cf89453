import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { startEtcd } from '@agola-ts/testkit';
import { createEtcdClient, EtcdErrorCodes, EtcdSession, runCompactor } from '../src/index.js';

describe('runCompactor', () => {
  test('compacts to the revision seen at its previous run, on one instance', async () => {
    const etcd = await startEtcd();
    const c = createEtcdClient({ endpoints: etcd.endpoint });
    const s1 = await EtcdSession.create(c);
    const s2 = await EtcdSession.create(c);
    const ac = new AbortController();
    try {
      const old = await c.put('k', '1');
      await c.put('k', '2');
      const loops = [
        runCompactor(c, s1, { intervalMs: 150, signal: ac.signal }),
        runCompactor(c, s2, { intervalMs: 150, signal: ac.signal }),
      ];
      // after two runs the first run's revision (>= the second put) is compacted
      const deadline = Date.now() + 10_000;
      let err: unknown;
      while (Date.now() < deadline) {
        err = await c.get('k', { revision: old }).catch((e: unknown) => e);
        if (is(err, EtcdErrorCodes.Compacted)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(is(err, EtcdErrorCodes.Compacted)).toBe(true);
      // the latest value is untouched
      expect((await c.get('k')).kv?.value.toString()).toBe('2');
      // exactly one instance holds the compactor lock
      expect((await c.list('compactlock/')).kvs).toHaveLength(1);
      ac.abort();
      await Promise.all(loops);
    } finally {
      ac.abort();
      await s1.close();
      await s2.close();
      c.close();
      await etcd.stop();
    }
  });
});

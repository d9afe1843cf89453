import { describe, expect, test } from 'vitest';
import { EtcdMutex, EtcdSession, EtcdErrorCodes } from '../src/index.js';
import { testClient } from './helpers.js';

describe('EtcdMutex', () => {
  test('only one session holds the lock; unlocking lets the other take it', async () => {
    const c = await testClient('mutex');
    const s1 = await EtcdSession.create(c);
    const s2 = await EtcdSession.create(c);
    try {
      const m1 = new EtcdMutex(c, s1, 'lock');
      const m2 = new EtcdMutex(c, s2, 'lock');
      expect(await m1.tryLock()).toBe(true);
      expect(await m1.tryLock()).toBe(true); // re-entrant for the holder
      expect(await m2.tryLock()).toBe(false);
      expect(await m2.tryLock()).toBe(false);
      // the loser's key is withdrawn: only the holder's key is under the lock prefix
      expect((await c.list('lock/')).kvs.map((kv) => kv.key)).toEqual([`lock/${s1.leaseIdHex}`]);
      await m1.unlock();
      expect(await m2.tryLock()).toBe(true);
      expect(m2.isHeld).toBe(true);
      expect(await m1.tryLock()).toBe(false);
    } finally {
      await s1.close();
      await s2.close();
      c.close();
    }
  });

  test('racing tryLocks elect exactly one holder', async () => {
    const c = await testClient('mutex');
    const sessions = await Promise.all(Array.from({ length: 8 }, () => EtcdSession.create(c)));
    try {
      const mutexes = sessions.map((s) => new EtcdMutex(c, s, 'race'));
      const results = await Promise.all(mutexes.map((m) => m.tryLock()));
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
      c.close();
    }
  });

  test("closing the holder's session frees the lock and aborts its signal", async () => {
    const c = await testClient('mutex');
    const s1 = await EtcdSession.create(c);
    const s2 = await EtcdSession.create(c);
    try {
      const m1 = new EtcdMutex(c, s1, 'lock');
      expect(await m1.tryLock()).toBe(true);
      await s1.close();
      expect(m1.signal.aborted).toBe(true);
      expect(m1.isHeld).toBe(false);
      expect(await new EtcdMutex(c, s2, 'lock').tryLock()).toBe(true);
      await expect(m1.tryLock()).rejects.toMatchObject({ code: EtcdErrorCodes.LockLost });
    } finally {
      await s2.close();
      c.close();
    }
  });

  test('a lease revoked behind our back is signalled as lost', async () => {
    const c = await testClient('mutex');
    const s1 = await EtcdSession.create(c, { ttlSeconds: 2 });
    try {
      const m1 = new EtcdMutex(c, s1, 'lock');
      expect(await m1.tryLock()).toBe(true);
      await c.raw.leaseClient.leaseRevoke({ ID: s1.leaseId });
      await new Promise<void>((resolve) => {
        if (m1.signal.aborted) return resolve();
        m1.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      expect((m1.signal.reason as { code?: string }).code).toBe(EtcdErrorCodes.LockLost);
      expect((await c.list('lock/')).kvs).toEqual([]);
    } finally {
      await s1.close();
      c.close();
    }
  });
});

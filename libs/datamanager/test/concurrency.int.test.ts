import { afterEach, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  DataManagerErrorCodes,
  decodeChangeGroupsToken,
  encodeChangeGroupsToken,
} from '../src/index.js';
import { eventually, fixture, put, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('change groups', () => {
  test('overlapping change groups: exactly one writer wins each conflict', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => {
        // every writer read the group "username-alice" at the same moment
        const token = dm.changeGroupsToken(['username-alice']);
        return dm.write([put('user', `u${i}`, 'alice')], token);
      }),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(9);
    for (const f of failed) expect(is(f.reason, DataManagerErrorCodes.Concurrency)).toBe(true);
    expect((failed[0]!.reason as Error).message).toBe(
      'wal concurrency error: change groups already updated: username-alice',
    );
  });

  test('disjoint change groups: every concurrent writer succeeds', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        dm.write([put('user', `u${i}`, `v${i}`)], dm.changeGroupsToken([`username-u${i}`])),
      ),
    );
    expect(new Set(results.map((r) => r.walSequence)).size).toBe(50);
    for (let i = 0; i < 50; i++) expect((await dm.read('user', `u${i}`)).toString()).toBe(`v${i}`);
  });

  test('disjoint writers on two instances never fail because of each other', async () => {
    fx = await fixture();
    const a = fx.dm();
    const b = fx.dm();
    await Promise.all([a.start(), b.start()]);
    const writes = Array.from({ length: 60 }, (_, i) => {
      const dm = i % 2 === 0 ? a : b;
      return dm.write([put('org', `o${i}`, `v${i}`)], dm.changeGroupsToken([`orgname-o${i}`]));
    });
    const results = await Promise.all(writes);
    const seqs = results.map((r) => r.walSequence).sort();
    expect(new Set(seqs).size).toBe(60);
  });

  test('the returned token chains: a write with it succeeds, a stale one fails', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const t0 = dm.changeGroupsToken(['g']);
    const r1 = await dm.write([put('user', 'a', '1')], t0);
    expect(r1.changeGroupsToken.changeGroupsRevisions['g']).toBeGreaterThan(0n);
    const r2 = await dm.write([put('user', 'a', '2')], r1.changeGroupsToken);
    await expect(dm.write([put('user', 'a', '3')], r1.changeGroupsToken)).rejects.toMatchObject({
      code: DataManagerErrorCodes.Concurrency,
    });
    // readObject gives the token as of the read
    const { data, changeGroupsToken } = await dm.readObject('user', 'a', ['g']);
    expect(data.toString()).toBe('2');
    expect(changeGroupsToken.changeGroupsRevisions['g']).toBe(
      r2.changeGroupsToken.changeGroupsRevisions['g'],
    );
    await dm.write([put('user', 'a', '4')], changeGroupsToken);
  });

  test('a token older than the compaction range is refused', async () => {
    fx = await fixture();
    const dm = fx.dm({ changeGroupsRevisionRange: 5, intervals: { compactChangeGroups: 20 } });
    await dm.start();
    const old = dm.changeGroupsToken(['g']);
    // move etcd's revision on
    for (let i = 0; i < 10; i++) await dm.write([put('user', `x${i}`, '')]);
    await eventually(async () => {
      const err = await dm.write([put('user', 'y', '')], old).catch((e: unknown) => e);
      return (
        is(err, DataManagerErrorCodes.Concurrency) && (err as Error).message.includes('too old')
      );
    });
  });

  test('tokens encode to a string and back', () => {
    const token = {
      curRevision: 9007199254740993n,
      changeGroupsRevisions: { 'user-a': 12n, 'x"y': 0n },
    };
    expect(decodeChangeGroupsToken(encodeChangeGroupsToken(token))).toEqual(token);
    expect(() => decodeChangeGroupsToken('garbage')).toThrow('invalid change groups token');
  });
});

describe('two instances', () => {
  test('both read every write; locked loops run on one instance at a time', async () => {
    fx = await fixture();
    const fast = {
      sync: 30,
      checkpoint: 30,
      etcdWalCleaner: 30,
      compactChangeGroups: 30,
      checkpointClean: 60,
    };
    const a = fx.dm({ minCheckpointWalsNum: 5, etcdWalsKeepNum: 5, intervals: fast });
    const b = fx.dm({ minCheckpointWalsNum: 5, etcdWalsKeepNum: 5, intervals: fast });
    // record who works under which lock, to check that no two instances ever overlap
    const holders = new Map<string, number>();
    const overlaps: string[] = [];
    for (const [name, dm] of [
      ['a', a],
      ['b', b],
    ] as const) {
      dm.hooks.lockedWork = (lockKey, phase) => {
        const n = (holders.get(lockKey) ?? 0) + (phase === 'start' ? 1 : -1);
        if (n > 1) overlaps.push(`${lockKey} on ${name}`);
        holders.set(lockKey, n);
      };
    }
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 40; i++) {
      const dm = i % 2 === 0 ? a : b;
      await dm.write([put('user', `u${i}`, `v${i}`)]);
    }
    // each instance sees the other's writes (through the etcd watch)
    await eventually(async () => {
      for (let i = 0; i < 40; i++) {
        for (const dm of [a, b]) {
          const v = await dm.read('user', `u${i}`).catch(() => undefined);
          if (v?.toString() !== `v${i}`) return false;
        }
      }
      return true;
    });
    // checkpoints happened and wals were cleaned, yet everything reads the same
    await eventually(async () => {
      const { kvs } = await fx!.etcd.list('datamanager/wals/');
      return kvs.length <= 10;
    });
    for (let i = 0; i < 40; i++) {
      expect((await a.read('user', `u${i}`)).toString()).toBe(`v${i}`);
      expect((await b.read('user', `u${i}`)).toString()).toBe(`v${i}`);
    }
    // locks: the loops ran, on both instances over time, but never two at once
    const runs = [a.lockedRuns(), b.lockedRuns()];
    for (const lock of [
      'synclock',
      'checkpointlock',
      'walcleanerlock',
      'compactchangegroupslock',
    ]) {
      expect((runs[0]![lock] ?? 0) + (runs[1]![lock] ?? 0)).toBeGreaterThan(0);
    }
    expect(overlaps).toEqual([]);
  });
});

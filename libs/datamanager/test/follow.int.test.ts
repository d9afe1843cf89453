import { afterEach, describe, expect, test } from 'vitest';
import { startEtcd, type EtcdServer } from '@agola-ts/testkit';
import { createMemorySink, type DataManager, type MemorySink } from '../src/index.js';
import { eventually, fixture, loseStoredWal, put, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
let etcd: EtcdServer | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  await fx?.close();
  await etcd?.stop();
  fx = undefined;
  etcd = undefined;
});

/** Starts following; returns the stop controller and the running promise. */
function startFollow(
  dm: DataManager,
  sink: MemorySink,
  options: Parameters<DataManager['follow']>[1] = {},
) {
  const ac = new AbortController();
  stops.push(ac);
  const running = dm.follow(sink, { ...options, signal: ac.signal });
  return { ac, running };
}

/** The follower equals `read()` for every id (and has nothing else). */
async function equalsDataManager(
  dm: DataManager,
  sink: MemorySink,
  ids: Map<string, Set<string>>,
): Promise<boolean> {
  for (const [type, set] of ids) {
    for (const id of set) {
      const expected = await dm.read(type, id).then(
        (b) => b.toString(),
        () => undefined,
      );
      if (sink.get(type, id)?.toString() !== expected) return false;
    }
  }
  for (const [type, entries] of sink.entries) {
    for (const id of entries.keys()) if (!ids.get(type)?.has(id)) return false;
  }
  return true;
}

describe('follow', () => {
  test('stays equal to read() through thousands of random writes from two writers', async () => {
    fx = await fixture();
    const fast = {
      sync: 50,
      checkpoint: 100,
      etcdWalCleaner: 100,
      checkpointClean: 200,
      storageWalCleaner: 300,
    };
    const opts = { minCheckpointWalsNum: 20, etcdWalsKeepNum: 10, intervals: fast };
    const a = fx.dm(opts);
    const b = fx.dm(opts);
    await Promise.all([a.start(), b.start()]);
    const sink = createMemorySink();
    let caughtUp = 0;
    startFollow(a, sink, { onCaughtUp: () => void caughtUp++ });
    const ids = new Map<string, Set<string>>([
      ['user', new Set()],
      ['org', new Set()],
    ]);
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const writes = Array.from({ length: 2 }, async (_, w) => {
      const dm = w === 0 ? a : b;
      for (let i = 0; i < 1000; i++) {
        const type = rnd(2) === 0 ? 'user' : 'org';
        const id = `${type[0]}${rnd(300)}`;
        if (rnd(5) === 0) {
          await dm.write([{ actionType: 'delete', dataType: type, id }]);
        } else {
          await dm.write([put(type, id, `w${w}-${i}`)]);
        }
        ids.get(type)!.add(id);
      }
    });
    await Promise.all(writes);
    // deleted ids are expected to be absent; instance a sees b's last writes a moment later,
    // so what exists is read again at every comparison
    const exists = (type: string, id: string) =>
      a.read(type, id).then(
        () => true,
        () => false,
      );
    await eventually(async () => {
      const existing = new Map<string, Set<string>>();
      for (const [type, set] of ids) {
        existing.set(type, new Set());
        for (const id of set) if (await exists(type, id)) existing.get(type)!.add(id);
      }
      return equalsDataManager(a, sink, existing);
    }, 20_000);
    expect(caughtUp).toBeGreaterThanOrEqual(1);
    // checkpoints and cleaners ran meanwhile: the follower crossed snapshots and cleaned wals
    const seqs: string[] = [];
    for await (const o of fx.ost.list('configdata/data/'))
      if (o.key.endsWith('.status')) seqs.push(o.key);
    expect(seqs.length).toBeGreaterThan(1);
    const { kvs } = await fx.etcd.list('datamanager/wals/');
    const first = kvs[0]!.key.slice('datamanager/wals/'.length);
    expect(first.endsWith('-0000000000001')).toBe(false); // the first wals are gone from etcd
  }, 90_000); // thousands of writes with fast cleaners: long on a loaded CI machine

  test('a stopped follower resumes where it was: no duplicates, no gaps', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const sink = createMemorySink();
    for (let i = 0; i < 20; i++) await dm.write([put('user', `u${i}`, 'v1')]);
    const first = startFollow(dm, sink);
    await eventually(() => sink.get('user', 'u19')?.toString() === 'v1');
    first.ac.abort();
    await first.running;
    const before = await sink.position();
    // more writes while it is stopped, some crossing a checkpoint
    for (let i = 0; i < 20; i++) await dm.write([put('user', `u${i}`, 'v2')]);
    await dm.checkpoint({ force: true });
    for (let i = 20; i < 30; i++) await dm.write([put('user', `u${i}`, 'v2')]);
    const resyncs: string[] = [];
    const second = startFollow(dm, sink, { onResync: (r) => resyncs.push(r) });
    await eventually(() => sink.get('user', 'u29')?.toString() === 'v2');
    for (let i = 0; i < 30; i++) expect(sink.get('user', `u${i}`)?.toString()).toBe('v2');
    expect(resyncs).toEqual([]); // it continued incrementally
    expect((await sink.position())!.walSequence > before!.walSequence).toBe(true);
    second.ac.abort();
    await second.running;
  });

  test('etcd wiped: a full resync, equal data', async () => {
    etcd = await startEtcd();
    fx = await fixture('posix', etcd.endpoint);
    const dm = fx.dm({ intervals: { sync: 50 } });
    await dm.start();
    const sink = createMemorySink();
    const resyncs: string[] = [];
    startFollow(dm, sink, { onResync: (r) => resyncs.push(r) });
    for (let i = 0; i < 10; i++) await dm.write([put('user', `u${i}`, `v${i}`)]);
    await eventually(() => sink.get('user', 'u9')?.toString() === 'v9');
    const synced = (await dm.write([put('org', 'o', 'x')])).walSequence;
    await eventually(
      async () =>
        (await fx!.etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value.toString() ===
        synced,
    );
    await etcd.restart({ wipe: true });
    await eventually(
      async () =>
        (await dm.write([put('user', 'after', 'reset')]).catch(() => undefined)) !== undefined,
      20_000,
    );
    await eventually(() => sink.get('user', 'after')?.toString() === 'reset', 20_000);
    expect(resyncs.length).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 10; i++) expect(sink.get('user', `u${i}`)?.toString()).toBe(`v${i}`);
    expect(sink.get('org', 'o')?.toString()).toBe('x');
  });

  test('a watch revision compacted away: a full resync, equal data', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    for (let i = 0; i < 5; i++) await dm.write([put('user', `u${i}`, 'v')]);
    const sink = createMemorySink();
    const resyncs: string[] = [];
    let first = true;
    startFollow(dm, sink, {
      onResync: (r) => resyncs.push(r),
      // between the catch-up and the watch: writes, then compaction past the watch start
      onCaughtUp: async () => {
        if (!first) return;
        first = false;
        for (let i = 5; i < 10; i++) await dm.write([put('user', `u${i}`, 'v')]);
        await fx!.etcd.compact(await fx!.etcd.currentRevision());
      },
    });
    await eventually(() => resyncs.length > 0 && sink.get('user', 'u9') !== undefined, 15_000);
    expect(resyncs[0]).toMatch(/has been compacted/);
    for (let i = 0; i < 10; i++) expect(sink.get('user', `u${i}`)?.toString()).toBe('v');
  });

  test('a gap in the wals: a full resync instead of a divergent sink', async () => {
    fx = await fixture();
    // wal data in files, so losing a wal's header leaves its data (as with Agola's layout)
    const dm = fx.dm({ inlineWalMaxBytes: 0 });
    await dm.start();
    const sink = createMemorySink();
    await dm.write([put('user', 'a', '1')]);
    const f = startFollow(dm, sink);
    await eventually(() => sink.get('user', 'a') !== undefined);
    f.ac.abort();
    await f.running;
    const seqs: string[] = [];
    for (let i = 0; i < 4; i++)
      seqs.push((await dm.write([put('user', `b${i}`, '2')])).walSequence);
    await dm.checkpoint({ force: true }); // the snapshot holds everything
    // lose a wal in the middle of what the follower must replay (a fresh instance, whose
    // cache of sync batches never saw it)
    await loseStoredWal(fx.ost, seqs[1]!);
    const fresh = fx.dm({ inlineWalMaxBytes: 0 });
    await fresh.start();
    const resyncs: string[] = [];
    startFollow(fresh, sink, { onResync: (r) => resyncs.push(r) });
    await eventually(() => sink.get('user', 'b3') !== undefined);
    expect(resyncs[0]).toContain('wals gap');
    for (let i = 0; i < 4; i++) expect(sink.get('user', `b${i}`)?.toString()).toBe('2');
  });

  test('change group revisions follow the datamanager', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const sink = createMemorySink();
    startFollow(dm, sink);
    const res = await dm.write([put('user', 'x', '')], dm.changeGroupsToken(['username-x']));
    await eventually(
      () =>
        sink.changeGroups.get('username-x') ===
        res.changeGroupsToken.changeGroupsRevisions['username-x'],
    );
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { SinkApplyError } from '../src/index.js';
import type { SinkPosition } from '../src/sink.js';
import { eventually, fixture, put, type Fixture } from './helpers.js';
import { openTestReadDb, type TestReadDb, type TestSinkOptions } from './sqlite-readdb.js';

let fx: Fixture | undefined;
let dir: string | undefined;
const readdbs: TestReadDb[] = [];
const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  await Promise.all(readdbs.splice(0).map((r) => r.close()));
  await fx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  fx = undefined;
  dir = undefined;
});

/** A read model in a fresh dir, closed after the test. */
async function readDb(sinkOptions: TestSinkOptions): Promise<TestReadDb> {
  dir ??= await mkdtemp(join(tmpdir(), 'readdb-batch-'));
  const readdb = await openTestReadDb(join(dir, `r${readdbs.length}.sqlite`), {}, sinkOptions);
  readdbs.push(readdb);
  return readdb;
}

/** Follows until caught up; the follower keeps running until the test ends. */
async function followUntilCaughtUp(
  dm: ReturnType<Fixture['dm']>,
  readdb: TestReadDb,
): Promise<void> {
  const ac = new AbortController();
  stops.push(ac);
  await new Promise<void>((resolve, reject) => {
    dm.follow(readdb.sink, { signal: ac.signal, onCaughtUp: () => resolve() }).catch(reject);
  });
}

/** The wal position and the rows, read in one snapshot. */
function snapshot(readdb: TestReadDb): Promise<{ seq: string; ids: string[] }> {
  return readdb.db.do(
    async (tx) => ({
      seq: (await tx.get<{ seq: string }>('select seq from committedwalsequence'))?.seq ?? '',
      ids: (await tx.all<{ id: string }>('select id from entries order by id')).map((r) => r.id),
    }),
    { readonly: true },
  );
}

describe('sqlite sink batches', () => {
  test('a long run of wals is committed at wal boundaries, each commit consistent', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    // 30 wals of 3 puts each, all in etcd: the follower applies them in one sink transaction
    const wals: Array<{ seq: string; ids: string[] }> = [];
    for (let w = 0; w < 30; w++) {
      const ids = [0, 1, 2].map((j) => `w${String(w).padStart(2, '0')}-${j}`);
      const res = await dm.write(ids.map((id) => put('user', id, `v${id}`)));
      wals.push({ seq: res.walSequence, ids });
    }
    const positions: SinkPosition[] = [];
    const batches: number[] = [];
    const seen: Array<Promise<{ seq: string; ids: string[] }>> = [];
    const readdb: TestReadDb = await readDb({
      maxRowsPerTransaction: 10,
      batchRows: 4,
      onBatch: (actions) => batches.push(actions.length),
      onCommit: (p) => {
        positions.push(p);
        seen.push(snapshot(readdb));
      },
    });
    await followUntilCaughtUp(dm, readdb);

    const seqs = wals.map((w) => w.seq);
    const last = seqs.at(-1)!;
    // the full sync of an empty storage, then the etcd wals in several commits
    const incremental = positions.filter((p) => seqs.includes(p.walSequence));
    // before them only the initial sync (no wal of ours yet)
    expect(positions.slice(0, positions.length - incremental.length)).toEqual(
      positions.filter((p) => !seqs.includes(p.walSequence)),
    );
    expect(incremental.length).toBeGreaterThanOrEqual(8);
    expect(incremental.at(-1)?.walSequence).toBe(last);
    const order = incremental.map((p) => seqs.indexOf(p.walSequence));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4);
    // every snapshot holds exactly the rows of the wals up to its own position
    for (const snap of await Promise.all(seen)) {
      const upTo = seqs.indexOf(snap.seq);
      if (upTo < 0) {
        expect(snap.ids).toEqual([]);
        continue;
      }
      const want = wals
        .slice(0, upTo + 1)
        .flatMap((w) => w.ids)
        .sort();
      expect(snap.ids).toEqual(want);
    }
    expect((await readdb.all()).size).toBe(90);
    expect((await readdb.sink.position())?.walSequence).toBe(last);
  });

  test('a full sync is one transaction however many rows it has', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    for (let w = 0; w < 5; w++) {
      await dm.write(
        Array.from({ length: 20 }, (_, j) => put('project', `p${w}-${j}`, `v${w}-${j}`)),
      );
    }
    await dm.checkpoint({ force: true });
    await dm.clean();
    const positions: SinkPosition[] = [];
    const batches: number[] = [];
    const readdb = await readDb({
      maxRowsPerTransaction: 10,
      batchRows: 7,
      onBatch: (a) => batches.push(a.length),
      onCommit: (p) => positions.push(p),
    });
    await followUntilCaughtUp(dm, readdb);
    // one commit from the snapshot (revision 0), then the etcd catch-up (its revision)
    expect(positions.filter((p) => p.revision === 0n)).toHaveLength(1);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.max(...batches)).toBe(7);
    expect((await readdb.all()).size).toBe(100);
  });

  test('a batch failing in a full sync: nothing of it is left; a lasting failure names a snapshot entry', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    await dm.write(Array.from({ length: 300 }, (_, j) => put('project', `s${j}`, `v${j}`)));
    const snapshotWal = (await dm.checkpoint({ force: true }))!.status.walSequence;
    await dm.clean();
    // the first failure: the whole full sync is rolled back, then redone
    let failures = 0;
    const seen: Array<Promise<{ seq: string; ids: string[] }>> = [];
    const once: TestReadDb = await readDb({
      batchRows: 50,
      onBatch: (actions) => {
        if (failures === 0 && actions.some((a) => a.id === 's200')) {
          failures++;
          seen.push(snapshot(once));
          throw new Error('apply failed');
        }
      },
    });
    await followUntilCaughtUp(dm, once);
    expect(failures).toBe(1);
    expect(await seen[0]!).toEqual({ seq: '', ids: [] });
    expect((await once.all()).size).toBe(300);
    // a failure on every attempt: the follower stops with an error naming a snapshot entry
    const always = await readDb({
      batchRows: 50,
      onBatch: (actions) => {
        if (actions.some((a) => a.id === 's200')) throw new Error('apply failed');
      },
    });
    const err = await dm.follow(always.sink, { applyAttempts: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkApplyError);
    expect((err as SinkApplyError).entry).toMatchObject({
      dataType: 'project',
      walSequence: snapshotWal,
      source: 'snapshot',
    });
    expect((await always.all()).size).toBe(0);
  });

  test('a failing batch rolls back to the last wal boundary; the follower resumes', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const ids: string[] = [];
    for (let w = 0; w < 12; w++) {
      const wal = [0, 1].map((j) => `f${String(w).padStart(2, '0')}-${j}`);
      ids.push(...wal);
      await dm.write(wal.map((id) => put('user', id, id)));
    }
    let failed = false;
    const afterFailure: Array<Promise<{ seq: string; ids: string[] }>> = [];
    const readdb: TestReadDb = await readDb({
      maxRowsPerTransaction: 4,
      batchRows: 2,
      onBatch: (actions) => {
        if (!failed && actions.some((a) => a.id === 'f09-0')) {
          failed = true;
          afterFailure.push(snapshot(readdb));
          throw new Error('apply failed');
        }
      },
    });
    await followUntilCaughtUp(dm, readdb);
    expect(failed).toBe(true);
    // what the failure left: whole wals only, ending before the failing one
    const left = await afterFailure[0]!;
    expect(left.ids.length % 2).toBe(0);
    expect(left.ids.length).toBeGreaterThan(0);
    expect(left.ids).toEqual(ids.slice(0, left.ids.length));
    expect(left.ids).not.toContain('f09-0');
    await eventually(async () => (await readdb.all()).size === 24, 10_000);
  });
});

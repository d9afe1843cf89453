// Readdb rebuild benchmark (npm run bench:readdb): a full sync of the runservice's readdb from
// a datamanager holding BENCH_ENTRIES entries (archived runs, with a run config and a run
// counter every tenth run), through the sqlite sink
// - one action at a time (`applyAction`, the path before the batch apply),
// - in batches (`applyActions`, multi-row deletes and inserts: what the runservice uses),
// next to the floor: the same rows, already decoded, inserted into the same tables with
// `tx.insertMany` (500 rows per statement) in one transaction, no feed. The sides interleaved
// round by round (order rotated), medians; the load average printed (a shared machine).
// Own etcd and posix storage; every sqlite file has the runservice's settings (WAL,
// synchronous=NORMAL).
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager, type DataManager } from '@agola-ts/datamanager';
import { createSqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { openDb } from '@agola-ts/db';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage } from '@agola-ts/ost';
import { startEtcd } from '@agola-ts/testkit';
import type { Run } from '@agola-ts/types';
import {
  DATA_TYPES,
  applyAction,
  applyActions,
  decodingSink,
  groupPath,
  migrateReadDb,
  resetReadDb,
} from '../src/readdb.js';

const HOUR = 3_600_000;
const ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 50_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const fmt = (n: number, d = 2) => n.toFixed(d);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const load = () =>
  loadavg()
    .map((l) => fmt(l, 1))
    .join(' ');

interface Entity {
  dataType: 'run' | 'runconfig' | 'runcounter';
  id: string;
  json: string;
}

/** Runs (about 600 bytes of JSON), plus a run config and a group counter every tenth run. */
function entities(): Entity[] {
  const out: Entity[] = [];
  for (let i = 0; out.length < ENTRIES; i++) {
    const n = String(i).padStart(7, '0');
    const group = `/project/p${i % 500}/branch/main`;
    const run = {
      id: `r${n}`,
      name: 'run',
      counter: Math.floor(i / 500) + 1,
      group,
      annotations: { branch: 'main', commit_sha: 'c'.repeat(40) },
      phase: 'finished',
      result: 'success',
      tasks: { t1: { id: 't1', status: 'success', steps: [{ phase: 'success' }] } },
      enqueue_time: '2026-01-01T00:00:00Z',
      start_time: '2026-01-01T00:00:01Z',
      end_time: '2026-01-01T00:01:00Z',
      archived: true,
    };
    out.push({ dataType: 'run', id: run.id, json: JSON.stringify(run) });
    if (i % 10 === 0 && out.length < ENTRIES) {
      const config = { id: `r${n}`, name: 'run', group, tasks: { t1: { name: 'build' } } };
      out.push({ dataType: 'runconfig', id: config.id, json: JSON.stringify(config) });
    }
    if (i % 10 === 5 && out.length < ENTRIES) {
      out.push({ dataType: 'runcounter', id: `/project/p${i}`, json: String(i) });
    }
  }
  return out;
}

/** Writes the entities (1000 per wal) and checkpoints them into data files. */
async function fill(dm: DataManager, all: Entity[]): Promise<void> {
  const t = performance.now();
  for (let i = 0; i < all.length; i += 1000) {
    await dm.write(
      all.slice(i, i + 1000).map((e) => ({
        actionType: 'put' as const,
        dataType: e.dataType,
        id: e.id,
        data: e.json,
      })),
    );
  }
  await dm.checkpoint({ force: true });
  await dm.clean();
  console.log(
    `loaded and checkpointed ${all.length} entries in ${fmt((performance.now() - t) / 1000)} s`,
  );
}

/** A full sync into a new readdb file; returns its time and checks the row counts. */
async function rebuild(dm: DataManager, path: string, batch: boolean): Promise<number> {
  const db = await openDb(path, { synchronous: 'normal' });
  try {
    await migrateReadDb(db);
    const sqliteSink = createSqliteSink({
      db,
      apply: applyAction,
      ...(batch ? { applyBatch: applyActions } : {}),
      reset: resetReadDb,
    });
    await sqliteSink.init();
    // the batch side as the service runs it: puts decoded as they arrive (decodingSink)
    const sink = batch ? decodingSink(sqliteSink) : sqliteSink;
    const ac = new AbortController();
    const t = performance.now();
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const following = dm.follow(sink, { signal: ac.signal, onCaughtUp: () => caughtUp() });
    await ready;
    const ms = performance.now() - t;
    ac.abort();
    await following;
    await check(db, path);
    return ms;
  } finally {
    await db.close();
  }
}

async function check(db: Awaited<ReturnType<typeof openDb>>, what: string): Promise<void> {
  const counts = await db.do(
    async (tx) => {
      const n = async (t: string) =>
        (await tx.get<{ n: number }>(`select count(*) as n from ${t}`))?.n ?? 0;
      return [
        await n('run_ost'),
        await n('rundata_ost'),
        await n('runconfig_ost'),
        await n('runcounter_ost'),
      ];
    },
    { readonly: true },
  );
  const all = entities();
  const of = (t: string) => all.filter((e) => e.dataType === t).length;
  const want = [of('run'), of('run'), of('runconfig'), of('runcounter')];
  if (counts.join() !== want.join()) {
    throw new Error(`${what}: rows ${counts.join()}, want ${want.join()}`);
  }
}

/** The floor: the decoded rows inserted with tx.insertMany, one transaction. */
async function floor(path: string, all: Entity[]): Promise<number> {
  const db = await openDb(path, { synchronous: 'normal' });
  try {
    await migrateReadDb(db);
    const t = performance.now();
    await db.do(async (tx) => {
      const of = (t: string) => all.filter((e) => e.dataType === t);
      const runs = of('run').map((e) => ({ e, r: JSON.parse(e.json) as Run }));
      await tx.insertMany(
        'insert into run_ost (id, grouppath, counter, phase, result)',
        runs.map(({ e, r }) => [e.id, groupPath(r.group), r.counter, r.phase, r.result]),
      );
      await tx.insertMany(
        'insert into rundata_ost (id, data)',
        runs.map(({ e }) => [e.id, e.json]),
      );
      await tx.insertMany(
        'insert into runconfig_ost (id, data)',
        of('runconfig').map((e) => [e.id, e.json]),
      );
      await tx.insertMany(
        'insert into runcounter_ost (groupid, counter)',
        of('runcounter').map((e) => [e.id, JSON.parse(e.json) as number]),
      );
    });
    const ms = performance.now() - t;
    await check(db, 'floor');
    return ms;
  } finally {
    await db.close();
  }
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'rs-readdb-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const dm = createDataManager({
    etcd: etcd.withPrefix('data/'),
    ost: createPosixStorage({ path: dir }),
    basePath: 'rundata',
    dataTypes: DATA_TYPES,
    etcdWalsKeepNum: 1,
    intervals: {
      sync: 1000,
      checkpoint: HOUR,
      checkpointClean: HOUR,
      etcdWalCleaner: HOUR,
      storageWalCleaner: HOUR,
      compactChangeGroups: 1000,
      ping: 1000,
    },
  });
  try {
    console.log('# runservice readdb rebuild benchmark (etcd + posix storage + sqlite)');
    console.log(`load average before: ${load()}`);
    await dm.start();
    const all = entities();
    await fill(dm, all);
    const sides: Array<[string, (r: number) => Promise<number>]> = [
      ['per-action', (r) => rebuild(dm, join(dir, `action-${r}.sqlite`), false)],
      ['batch', (r) => rebuild(dm, join(dir, `batch-${r}.sqlite`), true)],
      ['insertMany floor', (r) => floor(join(dir, `floor-${r}.sqlite`), all)],
    ];
    const times = new Map<string, number[]>(sides.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const line: string[] = [];
      for (let i = 0; i < sides.length; i++) {
        const [name, run] = sides[(i + r) % sides.length]!;
        const ms = await run(r);
        times.get(name)!.push(ms);
        line.push(`${name} ${fmt(ms / 1000)} s`);
      }
      console.log(`round ${r + 1}: ${line.join(', ')} (load ${load()})`);
    }
    const m = (n: string) => median(times.get(n)!);
    console.log(`\nfull readdb rebuild of ${ENTRIES} entries, medians of ${ROUNDS} rounds:`);
    for (const [name] of sides)
      console.log(`${name.padEnd(17)} ${fmt(m(name) / 1000).padStart(7)} s`);
    console.log(
      `batch = ${fmt(m('per-action') / m('batch'))}x faster than per-action; batch = ${fmt(m('batch') / m('insertMany floor'))}x the insertMany floor, per-action = ${fmt(m('per-action') / m('insertMany floor'))}x`,
    );
    console.log(`load average after: ${load()}`);
  } finally {
    await dm.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

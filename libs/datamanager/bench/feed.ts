// Change feed benchmark (npm run bench:feed), with baselines that cannot flatter us:
// - a full sync of 100k entries into a sqlite read model next to the same rows inserted with
//   the `sqlite3` package directly (not through @agola-ts/db): one prepared statement in a loop,
//   and multi-row inserts of 500 rows; and the same full sync into an in-memory sink (what
//   reading and decoding the data files costs alone); interleaved round by round, medians.
//   Each raw insert runs in a child process of its own that decodes the rows before the clock
//   starts, so neither side's heap (the raw side's 100k decoded rows, the follower's state)
//   is in the other's garbage collections; the raw sqlite file has the read model's settings
//   (WAL, synchronous=NORMAL, and no checkpoint inside the commit: @agola-ts/db checkpoints
//   in the background, so the raw side must not pay for one either);
// - the lag from write() returning to the row being committed in the sqlite read model, at a
//   steady 200 writes/s for BENCH_LAG_S seconds (30 by default), next to an in-memory sink
//   following the same writes at the same time (the floor: the feed without sqlite);
//   BENCH_LAG_S=0 skips it.
// Own etcd and posix storage; every sqlite file has the same settings (WAL, synchronous=NORMAL).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sqlite3 from 'sqlite3';
import {
  createDataManager,
  createMemorySink,
  ostPaths,
  type DataManager,
  type DataStatus,
} from '../src/index.js';
import type { FollowSink, SinkPosition } from '../src/sink.js';
import { openTestReadDb, READDB_SCHEMA } from '../test/sqlite-readdb.js';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage, type ObjectStorage } from '@agola-ts/ost';
import { startEtcd } from '@agola-ts/testkit';

const HOUR = 3_600_000;
const quiet = {
  sync: 1000,
  checkpoint: HOUR,
  checkpointClean: HOUR,
  etcdWalCleaner: HOUR,
  storageWalCleaner: HOUR,
  compactChangeGroups: 1000,
  ping: 1000,
};
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const LAG_SECONDS = Number(process.env['BENCH_LAG_S'] ?? 30);
const WRITES_PER_SECOND = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const fmt = (n: number, d = 1) => n.toFixed(d);

async function readAll(ost: ObjectStorage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ost.read(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Loaded {
  entries: number;
  ost: ObjectStorage;
  status: DataStatus;
}

/** Writes the entries (1 KiB each, 1000 per wal) and checkpoints them into data files. */
async function load(dm: DataManager, ost: ObjectStorage): Promise<Loaded> {
  const entries = Number(process.env['BENCH_ENTRIES'] ?? 100_000);
  const value = 'v'.repeat(1024);
  const batch = 1000;
  const t = performance.now();
  for (let b = 0; b < entries / batch; b++) {
    await dm.write(
      Array.from({ length: batch }, (_, i) => ({
        actionType: 'put' as const,
        dataType: 'project',
        id: `e${String(b * batch + i).padStart(7, '0')}`,
        data: value,
      })),
    );
  }
  const status = (await dm.checkpoint({ force: true }))!.status;
  await dm.clean();
  console.log(
    `loaded and checkpointed ${entries} entries in ${fmt((performance.now() - t) / 1000, 2)} s`,
  );
  return { entries, ost, status };
}

// ---- raw sqlite3, no @agola-ts/db in between ----

function rawOpen(path: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db: sqlite3.Database = new sqlite3.Database(path, (err) =>
      err ? reject(err) : resolve(db),
    );
  });
}
const rawExec = (db: sqlite3.Database, sql: string) =>
  new Promise<void>((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
const rawPrepare = (db: sqlite3.Database, sql: string) =>
  new Promise<sqlite3.Statement>((resolve, reject) => {
    const s: sqlite3.Statement = db.prepare(sql, (err) => (err ? reject(err) : resolve(s)));
  });
const rawRun = (stmt: sqlite3.Statement, params: unknown[]) =>
  new Promise<void>((resolve, reject) =>
    stmt.run(params, (err) => (err ? reject(err) : resolve())),
  );
const rawFinalize = (stmt: sqlite3.Statement) =>
  new Promise<void>((resolve) => stmt.finalize(() => resolve()));
const rawClose = (db: sqlite3.Database) =>
  new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));

/**
 * Same schema and settings as the read model: WAL, synchronous=NORMAL, the checkpoint left
 * out of the commit (as @agola-ts/db does), one transaction.
 */
async function rawInsert(
  path: string,
  rows: Array<[string, string, Buffer]>,
  rowsPerStatement: number,
): Promise<number> {
  const db = await rawOpen(path);
  await rawExec(
    db,
    `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; ${READDB_SCHEMA}`,
  );
  const sql = (n: number) =>
    `insert or replace into entries (datatype, id, data) values ${new Array<string>(n).fill('(?, ?, ?)').join(', ')}`;
  const t = performance.now();
  await rawExec(db, 'BEGIN');
  const stmt = await rawPrepare(db, sql(rowsPerStatement));
  let i = 0;
  for (; i + rowsPerStatement <= rows.length; i += rowsPerStatement) {
    await rawRun(
      stmt,
      rowsPerStatement === 1 ? rows[i]! : rows.slice(i, i + rowsPerStatement).flat(),
    );
  }
  await rawFinalize(stmt);
  if (i < rows.length) {
    const rest = await rawPrepare(db, sql(rows.length - i));
    await rawRun(rest, rows.slice(i).flat());
    await rawFinalize(rest);
  }
  await rawExec(db, 'COMMIT');
  const ms = performance.now() - t;
  await rawClose(db);
  return ms;
}

/**
 * Before each side: the previous side's dirty pages written out (the kernel would otherwise
 * write them back during this one) and, with --expose-gc, its garbage collected, so that no
 * side pays for the one before it.
 */
async function settle(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('sync', (err) => (err ? reject(err) : resolve())),
  );
  (globalThis as { gc?: () => void }).gc?.();
}

/** What a raw side's child process reports: its wall time, CPU and main-thread busy share. */
interface RawResult {
  ms: number;
  cpu: NodeJS.CpuUsage;
  mainThreadBusy: number;
}

interface RawJob {
  dir: string;
  status: DataStatus;
  rowsPerStatement: number;
  round: number;
}

/** The rows of the data files, decoded as plainly as possible (untimed). */
async function rawRows(job: RawJob): Promise<Array<[string, string, Buffer]>> {
  const ost = createPosixStorage({ path: job.dir });
  const rows: Array<[string, string, Buffer]> = [];
  for (const f of job.status.files['project']!) {
    const text = (await readAll(ost, `bench/${ostPaths.dataFile('project', f.id)}`)).toString();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { id: string; data_type: string; data: string };
      rows.push([e.data_type, e.id, Buffer.from(e.data, 'base64')]);
    }
  }
  return rows;
}

/** Runs one raw insert in a child process of its own (see the header). */
function rawSide(job: RawJob): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(import.meta.url), '--raw'],
      { env: { ...process.env, BENCH_RAW_JOB: JSON.stringify(job) }, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`raw side failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as RawResult);
      },
    );
  });
}

/** The child process of {@link rawSide}: decodes the rows, then times the insert alone. */
async function rawChild(): Promise<void> {
  const job = JSON.parse(process.env['BENCH_RAW_JOB']!) as RawJob;
  const rows = await rawRows(job);
  const path = join(job.dir, `raw-${job.rowsPerStatement}-${job.round}.sqlite`);
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const ms = await rawInsert(path, rows, job.rowsPerStatement);
  const result: RawResult = {
    ms,
    cpu: process.cpuUsage(cpu),
    mainThreadBusy: performance.eventLoopUtilization(elu).utilization,
  };
  for (const suffix of ['', '-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
  process.stdout.write(JSON.stringify(result));
}

/** A sqlite read model with one table of entries (the tests' one); no fsync per commit. */
const openReadDb = (path: string, onCommit?: (p: SinkPosition) => void) =>
  openTestReadDb(
    path,
    { synchronous: 'normal' },
    {
      ...(onCommit ? { onCommit } : {}),
      ...(process.env['BENCH_BATCH_ROWS']
        ? { batchRows: Number(process.env['BENCH_BATCH_ROWS']) }
        : {}),
    },
  );

/** Follows from an empty read model until caught up; returns the time and the stop function. */
async function fullSync(dm: DataManager, sink: FollowSink) {
  const ac = new AbortController();
  const t = performance.now();
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  const following = dm.follow(sink, { signal: ac.signal, onCaughtUp: () => caughtUp() });
  await ready;
  const ms = performance.now() - t;
  return {
    ms,
    stop: async () => {
      ac.abort();
      await following;
    },
  };
}

async function benchFullSync(dm: DataManager, dir: string, info: Loaded) {
  console.log(
    `\n## full sync of ${info.entries} entries of 1 KiB into sqlite vs raw sqlite3 inserts of the same rows`,
  );
  console.log(
    `(${ROUNDS} rounds, the four sides interleaved, order rotated each round; medians; a shared, noisy machine)`,
  );
  const times = {
    loop: [] as number[],
    multi: [] as number[],
    sync: [] as number[],
    memory: [] as number[],
  };
  const sides: Array<[keyof typeof times, (round: number) => Promise<number | RawResult>]> = [
    ['loop', (r) => rawSide({ dir, status: info.status, rowsPerStatement: 1, round: r })],
    ['multi', (r) => rawSide({ dir, status: info.status, rowsPerStatement: 500, round: r })],
    [
      'sync',
      async (r) => {
        const readdb = await openReadDb(join(dir, `readdb-${r}.sqlite`));
        const res = await fullSync(dm, readdb.sink);
        await res.stop();
        const n = await readdb.db.do(
          async (tx) => (await tx.get<{ n: number }>('select count(*) as n from entries'))?.n,
          { readonly: true },
        );
        await readdb.close();
        await rm(join(dir, `readdb-${r}.sqlite`), { force: true });
        await rm(join(dir, `readdb-${r}.sqlite-wal`), { force: true });
        await rm(join(dir, `readdb-${r}.sqlite-shm`), { force: true });
        if (n !== info.entries) throw new Error(`full sync gave ${n} rows`);
        return res.ms;
      },
    ],
    [
      'memory',
      async () => {
        const res = await fullSync(dm, createMemorySink());
        await res.stop();
        return res.ms;
      },
    ],
  ];
  // CPU time of the process (all threads) per side: it moves much less than the wall time
  // when other jobs take the cores (the sync side's includes opening and checking its file)
  const cpuMs = {
    loop: [] as number[],
    multi: [] as number[],
    sync: [] as number[],
    memory: [] as number[],
  };
  // BENCH_SIDES=sync,memory runs only those sides (to profile one of them)
  const only = process.env['BENCH_SIDES']?.split(',');
  for (let r = 0; r < ROUNDS; r++) {
    const order = sides
      .map((_, i) => sides[(i + r) % sides.length]!)
      .filter(([name]) => !only || only.includes(name));
    const line: string[] = [];
    for (const [name, run] of order) {
      await settle();
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      const side = await run(r);
      const ms = typeof side === 'number' ? side : side.ms;
      const own = process.cpuUsage(cpu);
      const used = typeof side === 'number' ? own : side.cpu;
      const busy =
        typeof side === 'number'
          ? performance.eventLoopUtilization(elu).utilization
          : side.mainThreadBusy;
      times[name].push(ms);
      cpuMs[name].push((used.user + used.system) / 1000);
      line.push(
        `${name} ${fmt(ms / 1000, 2)} s (cpu ${fmt((used.user + used.system) / 1e6, 2)} s, main thread busy ${fmt(busy * 100, 0)}%)`,
      );
    }
    console.log(`round ${r + 1}: ${line.join(', ')}`);
  }
  const loop = median(times.loop);
  const multi = median(times.multi);
  const sync = median(times.sync);
  const memory = median(times.memory);
  console.log('side                                         | median s');
  console.log(`raw sqlite3, one prepared statement in a loop | ${fmt(loop / 1000, 2).padStart(8)}`);
  console.log(
    `raw sqlite3, multi-row inserts of 500 rows    | ${fmt(multi / 1000, 2).padStart(8)}`,
  );
  console.log(`follow full sync into sqlite                  | ${fmt(sync / 1000, 2).padStart(8)}`);
  console.log(
    `follow full sync into memory (no sqlite)      | ${fmt(memory / 1000, 2).padStart(8)}  (reading and decoding the data files alone)`,
  );
  console.log(
    `full sync = ${fmt(sync / multi, 2)}x the multi-row raw insert (goal <= 1.5x), ${fmt(sync / loop, 2)}x the one-statement loop`,
  );
  console.log(
    `CPU time (median): multi-row raw insert ${fmt(median(cpuMs.multi) / 1000, 2)} s, full sync ${fmt(median(cpuMs.sync) / 1000, 2)} s = ${fmt(median(cpuMs.sync) / median(cpuMs.multi), 2)}x`,
  );
}

async function benchLag(dm: DataManager, dir: string) {
  const total = LAG_SECONDS * WRITES_PER_SECOND;
  console.log(
    `\n## write() returned -> committed in the sqlite read model, steady ${WRITES_PER_SECOND} writes/s for ${LAG_SECONDS} s`,
  );
  // every commit of a sink reports the wal it reached: a wal is applied by the first commit
  // whose position is at or after it
  const commits: Array<{ seq: string; at: number }> = [];
  const readdb = await openReadDb(join(dir, 'readdb-lag.sqlite'), (p) =>
    commits.push({ seq: p.walSequence, at: performance.now() }),
  );
  // how long each sink transaction takes, from its start to its last commit
  const txTimes: number[] = [];
  const inner = readdb.sink;
  const timedSink: FollowSink = {
    position: () => inner.position(),
    transaction: async (fn) => {
      const t = performance.now();
      try {
        return await inner.transaction(fn);
      } finally {
        txTimes.push(performance.now() - t);
      }
    },
  };
  const sync = await fullSync(dm, timedSink);
  txTimes.length = 0;
  commits.length = 0;
  const memCommits: Array<{ seq: string; at: number }> = [];
  const mem = createMemorySink();
  const memTimed: FollowSink = {
    position: () => mem.position(),
    transaction: async (fn) => {
      let seq: string | undefined;
      const r = await mem.transaction((tx) =>
        fn({
          ...tx,
          setPosition: (p) => {
            seq = p.walSequence;
            return tx.setPosition(p);
          },
        }),
      );
      if (seq !== undefined) memCommits.push({ seq, at: performance.now() });
      return r;
    },
  };
  const memSync = await fullSync(dm, memTimed);
  // the event loop's delay beside the lag: a stall delays every wal's apply behind it
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const loopDelayWindows: number[] = [];
  const loopDelayAll = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  loopDelayAll.enable();
  const returned: Array<{ seq: string; at: number }> = [];
  const start = performance.now();
  const writes: Promise<void>[] = [];
  const backlog: number[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / WRITES_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (i > 0 && i % (5 * WRITES_PER_SECOND) === 0) {
      loopDelayWindows.push(loopDelay.max / 1e6);
      loopDelay.reset();
    }
    if (i % WRITES_PER_SECOND === 0) {
      const lastApplied = commits.at(-1)?.seq ?? '';
      backlog.push(returned.filter((w) => w.seq > lastApplied).length);
    }
    writes.push(
      dm
        .write([{ actionType: 'put', dataType: 'user', id: `lag-${i}`, data: 'x'.repeat(200) }])
        .then((res) => void returned.push({ seq: res.walSequence, at: performance.now() })),
    );
  }
  await Promise.all(writes);
  loopDelayWindows.push(loopDelay.max / 1e6);
  loopDelay.disable();
  loopDelayAll.disable();
  const elapsed = (performance.now() - start) / 1000;
  const last = returned.reduce((m, w) => (w.seq > m ? w.seq : m), '');
  const deadline = performance.now() + 10_000;
  while ((commits.at(-1)?.seq ?? '') < last && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  const lagsOf = (sinkCommits: Array<{ seq: string; at: number }>, from = 0, to = Infinity) => {
    const lags: number[] = [];
    for (const w of returned) {
      if (w.at - start < from || w.at - start >= to) continue;
      const c = sinkCommits.find((x) => x.seq >= w.seq);
      if (c) lags.push(Math.max(0, c.at - w.at));
    }
    return lags.sort((a, b) => a - b);
  };
  console.log(
    `${fmt(total / elapsed, 0)} writes/s achieved; ${commits.length} sqlite sink commits; wals not yet in sqlite, sampled each second: max ${Math.max(...backlog)}`,
  );
  console.log('sink    | applied | p50 ms | p99 ms | max ms');
  for (const [name, c] of [
    ['sqlite', commits],
    ['memory', memCommits],
  ] as const) {
    const lags = lagsOf(c);
    console.log(
      `${name.padEnd(7)} | ${String(lags.length).padStart(7)} | ${fmt(percentile(lags, 50), 1).padStart(6)} | ${fmt(percentile(lags, 99), 1).padStart(6)} | ${fmt(lags.at(-1) ?? NaN, 1).padStart(6)}`,
    );
  }
  const windows: string[] = [];
  for (let w = 0; w * 5000 < elapsed * 1000; w++) {
    const lags = lagsOf(commits, w * 5000, (w + 1) * 5000);
    if (lags.length > 0) windows.push(fmt(percentile(lags, 99), 0));
  }
  console.log(`sqlite p99 ms per 5 s window: ${windows.join(', ')}`);
  console.log(
    `event-loop delay (5 ms resolution): p50 ${fmt(loopDelayAll.percentile(50) / 1e6, 1)} ms, p99 ${fmt(loopDelayAll.percentile(99) / 1e6, 1)} ms; max per 5 s window: ${loopDelayWindows.map((d) => fmt(d, 0)).join(', ')} ms`,
  );
  txTimes.sort((a, b) => a - b);
  console.log(
    `sqlite sink transactions: ${txTimes.length}, p50 ${fmt(percentile(txTimes, 50), 1)} ms, p99 ${fmt(percentile(txTimes, 99), 1)} ms, max ${fmt(txTimes.at(-1) ?? NaN, 1)} ms`,
  );
  console.log('(goal: sqlite p99 < 50 ms; applied = of the writes, within 10 s of the end)');
  await sync.stop();
  await memSync.stop();
  await readdb.close();
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'dm-feed-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const ost = createPosixStorage({ path: dir });
  const data = createDataManager({
    etcd: etcd.withPrefix('data/'),
    ost,
    basePath: 'bench',
    dataTypes: ['user', 'project'],
    etcdWalsKeepNum: 1,
    intervals: quiet,
  });
  try {
    console.log(
      '# @agola-ts/datamanager change feed benchmark (etcd 3.4 + posix storage + sqlite on this machine)',
    );
    await data.start();
    const info = await load(data, ost);
    await benchFullSync(data, dir, info);
    if (LAG_SECONDS > 0) await benchLag(data, dir);
  } finally {
    await data.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--raw') await rawChild();
else await main();

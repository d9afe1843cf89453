// Change feed benchmark (npm run bench:feed): a full sync of 100k entries into a sqlite read
// model next to a raw sqlite bulk insert of the same rows, and the lag from write() returning to
// a sqlite follower having applied it, under a steady 200 writes/s. Own etcd and posix storage.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager, ostPaths, type DataManager, type DataStatus } from '../src/index.js';
import { openTestReadDb } from '../test/sqlite-readdb.js';
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
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

/** A sqlite read model with one table of entries (the tests' one); no fsync per commit. */
const openReadDb = (path: string) => openTestReadDb(path, { synchronous: 'normal' });

async function benchFollow(dm: DataManager, dir: string, info: Loaded) {
  console.log(
    `\n## change feed: full sync of ${info.entries} entries into sqlite vs a raw sqlite bulk insert`,
  );
  // raw baseline: the same rows inserted in one transaction, straight from the data files
  const rows: Array<[string, string, Buffer]> = [];
  for (const f of info.status.files['project']!) {
    const text = (
      await readAll(info.ost, `bench/${ostPaths.dataFile('project', f.id)}`)
    ).toString();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { id: string; data_type: string; data: string };
      rows.push([e.data_type, e.id, Buffer.from(e.data, 'base64')]);
    }
  }
  const raw = await openReadDb(join(dir, 'raw.sqlite'));
  let t = performance.now();
  await raw.db.do(async (tx) => {
    for (const r of rows)
      await tx.exec('insert or replace into entries (datatype, id, data) values (?, ?, ?)', r);
  });
  const rawMs = performance.now() - t;
  await raw.db.close();

  const readdb = await openReadDb(join(dir, 'readdb.sqlite'));
  const ac = new AbortController();
  t = performance.now();
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  const following = dm.follow(readdb.sink, { signal: ac.signal, onCaughtUp: () => caughtUp() });
  await ready;
  const syncMs = performance.now() - t;
  console.log(
    `raw bulk insert: ${fmt(rawMs / 1000, 2)} s; follow full sync (to caught up): ${fmt(syncMs / 1000, 2)} s; ratio ${fmt(syncMs / rawMs, 2)}x`,
  );

  console.log(
    '\n## change feed lag: write() returned -> applied in sqlite, steady 200 writes/s for 5 s',
  );
  const returned = new Map<string, number>();
  const applied = new Map<string, number>();
  const inner = readdb.sink;
  const timed = {
    position: () => inner.position(),
    transaction: <T>(fn: Parameters<typeof inner.transaction<T>>[0]) => {
      const ids: string[] = [];
      return inner
        .transaction((tx) =>
          fn({
            ...tx,
            applyAction: (a, seq) => {
              ids.push(a.id);
              return tx.applyAction(a, seq);
            },
          }),
        )
        .then((r) => {
          const now = performance.now();
          for (const id of ids) if (!applied.has(id)) applied.set(id, now);
          return r;
        });
    },
  };
  ac.abort();
  await following;
  const ac2 = new AbortController();
  const following2 = dm.follow(timed, { signal: ac2.signal });
  const start = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    const due = start + i * 5;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `lag-${i}`;
    writes.push(
      dm
        .write([{ actionType: 'put', dataType: 'user', id, data: 'x'.repeat(200) }])
        .then(() => void returned.set(id, performance.now())),
    );
  }
  await Promise.all(writes);
  const deadline = performance.now() + 10_000;
  while (applied.size < 1000 && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  const lags = [...returned]
    .map(([id, at]) => Math.max(0, (applied.get(id) ?? Infinity) - at))
    .sort((a, b) => a - b);
  console.log(
    `lag p50 ${fmt(percentile(lags, 50), 1)} ms, p99 ${fmt(percentile(lags, 99), 1)} ms (${applied.size} of 1000 applied)`,
  );
  ac2.abort();
  await following2;
  await readdb.db.close();
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
      '# @agola-ts/datamanager change feed benchmark (etcd 3.4 + posix storage + sqlite)',
    );
    await data.start();
    const info = await load(data, ost);
    await benchFollow(data, dir, info);
  } finally {
    await data.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

// Datamanager benchmark (npm run bench): every figure next to a raw baseline measured in the
// same run, against the same etcd and the same posix storage. The change feed's phases (full
// sync into sqlite, write -> applied lag) are in feed.ts (npm run bench:feed).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager, ostPaths, type DataManager } from '../src/index.js';
import { createEtcdClient, Sequence, type EtcdClient } from '@agola-ts/etcd';
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

/** Runs `concurrency` loops of `op` for `ms`; returns ops/s and per-op latencies. */
async function throughput(
  concurrency: number,
  ms: number,
  op: (worker: number, i: number) => Promise<void>,
) {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        await op(w, i);
        latencies.push(performance.now() - t);
        count++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    perSecond: count / (ms / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function readAll(
  ost: ObjectStorage,
  key: string,
  start?: number,
  end?: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ost.read(key, { start, end })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 1500);
const SUSTAINED_MS = Number(process.env['BENCH_SUSTAINED_MS'] ?? 30_000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A raw etcd transaction shaped like one single-wal commit of the datamanager, on its own
 * keys: the same compares (sequence key, walsdata, one change group, the min-revision guard),
 * the same puts (sequence, walsdata, the wal key with its inline data, the change group) and
 * the same failure reads. One writer (it tracks the revisions it compares against).
 */
function rawCommitShaped(etcd: EtcdClient, data: string) {
  let rev = 0n;
  let counter = 0;
  const inline = Buffer.from(
    JSON.stringify({ ActionType: 'put', DataType: 'user', ID: 'c1-0-0', Data: data }),
  ).toString('base64');
  return async () => {
    const seq = `0000000000001-${String(++counter).padStart(13, '0')}`;
    const res = await etcd.txn({
      compare: [
        { key: 'rawc/walseq', target: 'mod', operator: '==', value: rev },
        { key: 'rawc/walsdata', target: 'mod', operator: '==', value: rev },
        { key: 'rawc/cg/g', target: 'mod', operator: '==', value: rev },
        { key: 'rawc/minrev', target: 'mod', operator: '<', value: rev + 1000n },
      ],
      success: [
        { type: 'put', key: 'rawc/walseq', value: `{"Epoch":1,"C":${counter}}` },
        { type: 'put', key: 'rawc/walsdata', value: `{"LastCommittedWalSequence":"${seq}"}` },
        {
          type: 'put',
          key: `rawc/wals/${seq}`,
          value: JSON.stringify({
            WalDataFileID: randomUUID(),
            WalStatus: 'committed',
            WalSequence: seq,
            PreviousWalSequence: seq,
            InlineData: inline,
          }),
        },
        { type: 'put', key: 'rawc/cg/g', value: '' },
      ],
      failure: [
        { type: 'get', key: 'rawc/walseq' },
        { type: 'get', key: 'rawc/walsdata' },
        { type: 'get', key: 'rawc/minrev' },
        { type: 'get', key: 'rawc/cg/g' },
      ],
    });
    if (!res.succeeded) throw new Error('raw commit-shaped txn failed');
    rev = res.revision;
  };
}

/**
 * Raw puts batched as the datamanager batches commits: whoever waits when the previous
 * transaction returns goes into the next one (at most 64 puts per transaction).
 */
function rawBatchedPuts(etcd: EtcdClient) {
  const queue: Array<{ key: string; value: string; done: () => void; fail: (e: unknown) => void }> =
    [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, 64);
      try {
        await etcd.txn({
          success: batch.map((b) => ({ type: 'put', key: b.key, value: b.value })),
        });
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    running = false;
  };
  return (key: string, value: string) =>
    new Promise<void>((done, fail) => {
      queue.push({ key, value, done, fail });
      if (!running) void drain();
    });
}

/** A writer loop of the datamanager: one put per commit, each writer on its own change group. */
function dmWriter(dm: DataManager, concurrency: number, tag: string, value: string) {
  const tokens = Array.from({ length: concurrency }, (_, w) =>
    dm.changeGroupsToken([`bench-${tag}-${w}`]),
  );
  return async (w: number, i: number) => {
    const res = await dm.write(
      [{ actionType: 'put', dataType: 'user', id: `${tag}-${w}-${i % 50}`, data: value }],
      tokens[w],
    );
    tokens[w] = res.changeGroupsToken;
  };
}

async function benchCommits(etcd: EtcdClient, dm: DataManager) {
  console.log(
    `\n## write commits/s (disjoint change groups) vs raw etcd, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per side, medians`,
  );
  console.log(
    'baselines: 1 writer = a raw txn shaped like one commit; N writers = N concurrent raw puts, and raw puts batched per txn as the group commit does',
  );
  console.log(
    'writers | raw/s  | raw batched/s | dm commits/s | dm/raw | dm/batched | raw p50 ms | dm p50 ms | dm p99 ms',
  );
  const value = 'x'.repeat(200);
  for (const concurrency of [1, 16, 64]) {
    const raw: Array<Awaited<ReturnType<typeof throughput>>> = [];
    const batched: typeof raw = [];
    const dmRuns: typeof raw = [];
    const shaped = rawCommitShaped(etcd, value);
    const batchedPut = rawBatchedPuts(etcd);

    const sides: Array<() => Promise<void>> = [
      async () =>
        void raw.push(
          await throughput(concurrency, ROUND_MS, (w, i) =>
            concurrency === 1
              ? shaped()
              : etcd.put(`raw/${w}/${i % 50}`, value).then(() => undefined),
          ),
        ),
      async () =>
        void batched.push(
          await throughput(concurrency, ROUND_MS, (w, i) =>
            batchedPut(`rawb/${w}/${i % 50}`, value),
          ),
        ),
      async () => {
        // fresh tokens each round: the raw rounds move etcd's revision past the token range
        const write = dmWriter(dm, concurrency, `c${concurrency}`, value);
        dmRuns.push(await throughput(concurrency, ROUND_MS, write));
      },
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // alternate which side goes first, so neither always runs on a warmer (or busier) etcd
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) await side();
      // let the storage sync catch up between rounds: each round starts from an empty backlog
      while (dm.storageSyncStatus().unsyncedWals > 0) await sleep(10);
    }
    const m = (runs: typeof raw, k: 'perSecond' | 'p50' | 'p99') => median(runs.map((r) => r[k]));
    const dmRate = m(dmRuns, 'perSecond');
    console.log(
      `${String(concurrency).padStart(7)} | ${fmt(m(raw, 'perSecond'), 0).padStart(6)} | ${fmt(m(batched, 'perSecond'), 0).padStart(13)} | ${fmt(dmRate, 0).padStart(12)} | ${fmt(dmRate / m(raw, 'perSecond'), 2).padStart(6)} | ${fmt(dmRate / m(batched, 'perSecond'), 2).padStart(10)} | ${fmt(m(raw, 'p50'), 2).padStart(10)} | ${fmt(m(dmRuns, 'p50'), 2).padStart(9)} | ${fmt(m(dmRuns, 'p99'), 2).padStart(9)}`,
    );
    if (concurrency === 1) {
      const ratio = m(dmRuns, 'p50') / m(raw, 'p50');
      console.log(
        `single-writer commit p50: ${fmt(ratio, 2)}x one raw txn shaped like it (${fmt(m(dmRuns, 'p50'), 2)} ms vs ${fmt(m(raw, 'p50'), 2)} ms; goal <= 2x: ${ratio <= 2 ? 'met' : 'NOT met'})`,
      );
    }
  }
}

/** Wals committed but not yet marked in the object storage, as etcd says (exact, any instance). */
async function etcdBacklog(dmEtcd: EtcdClient): Promise<number> {
  const [walsData, synced] = await Promise.all([
    dmEtcd.get('datamanager/walsdata'),
    dmEtcd.get('datamanager/lastcommittedstoragewalseq'),
  ]);
  const last = (
    JSON.parse(walsData.kv?.value.toString() ?? '{}') as { LastCommittedWalSequence?: string }
  ).LastCommittedWalSequence;
  const syncedSeq = synced.kv?.value.toString();
  if (!last || !syncedSeq) return 0;
  const a = Sequence.parse(last);
  const b = Sequence.parse(syncedSeq);
  return a.epoch === b.epoch ? Number(a.counter - b.counter) : Number.NaN;
}

async function benchSustained(etcd: EtcdClient, dmEtcd: EtcdClient, dm: DataManager) {
  const writers = 64;
  console.log(
    `\n## sustained: ${writers} writers for ${SUSTAINED_MS / 1000} s, raw etcd puts first, then the datamanager; storage backlog over time`,
  );
  const value = 'x'.repeat(200);
  const raw = await throughput(writers, SUSTAINED_MS, (w, i) =>
    etcd.put(`raws/${w}/${i % 50}`, value).then(() => undefined),
  );
  console.log(`raw puts: ${fmt(raw.perSecond, 0)}/s (p50 ${fmt(raw.p50, 2)} ms)`);
  const write = dmWriter(dm, writers, 'sustained', value);
  let count = 0;
  let maxBacklog = 0;
  const sampleMs = Math.max(500, Math.min(2000, SUSTAINED_MS / 15));
  const started = performance.now();
  let stop = false;
  const sampler = (async () => {
    let last = 0;
    console.log('   t s | commits/s | backlog (wals in etcd only)');
    while (!stop) {
      await sleep(sampleMs);
      const backlog = await etcdBacklog(dmEtcd);
      maxBacklog = Math.max(maxBacklog, backlog);
      console.log(
        `${fmt((performance.now() - started) / 1000, 1).padStart(6)} | ${fmt(((count - last) * 1000) / sampleMs, 0).padStart(9)} | ${backlog}`,
      );
      last = count;
    }
  })();
  const res = await throughput(writers, SUSTAINED_MS, async (w, i) => {
    await write(w, i);
    count++;
  });
  const stopped = performance.now();
  stop = true;
  const atStop = await etcdBacklog(dmEtcd);
  while ((await etcdBacklog(dmEtcd)) > 0) await sleep(10);
  const drainMs = performance.now() - stopped;
  await sampler;
  const ratio = res.perSecond / raw.perSecond;
  console.log(
    `dm commits: ${fmt(res.perSecond, 0)}/s sustained (p50 ${fmt(res.p50, 2)} ms, p99 ${fmt(res.p99, 2)} ms); ${fmt(ratio, 2)}x raw puts (goal >= 0.5x: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `storage backlog: max ${maxBacklog} wals, ${atStop} when the load stopped, drained in ${fmt(drainMs, 0)} ms (goal <= 2000 ms: ${drainMs <= 2000 ? 'met' : 'NOT met'})`,
  );
}

async function benchCheckpoint(dm: DataManager, ost: ObjectStorage) {
  const entries = Number(process.env['BENCH_ENTRIES'] ?? 100_000);
  console.log(`\n## checkpoint of ${entries} entries of 1 KiB, then of 100 random changes`);
  const value = 'v'.repeat(1024);
  const id = (n: number) => `e${String(n).padStart(7, '0')}`;
  const batch = 1000;
  let t = performance.now();
  for (let b = 0; b < entries / batch; b++) {
    await dm.write(
      Array.from({ length: batch }, (_, i) => ({
        actionType: 'put' as const,
        dataType: 'project',
        id: id(b * batch + i),
        data: value,
      })),
    );
  }
  console.log(
    `loading ${entries} entries in ${entries / batch} wals: ${fmt((performance.now() - t) / 1000, 2)} s`,
  );
  t = performance.now();
  const first = (await dm.checkpoint({ force: true }))!;
  console.log(
    `full checkpoint: ${fmt((performance.now() - t) / 1000, 2)} s, ${first.filesWritten} data files, ${fmt(first.bytesWritten / 2 ** 20)} MiB written`,
  );
  const changed = new Set<number>();
  while (changed.size < 100) changed.add(Math.floor(Math.random() * entries));
  const actions = [...changed].map((n) => ({
    actionType: 'put' as const,
    dataType: 'project',
    id: id(n),
    data: `changed-${'c'.repeat(1016)}`,
  }));
  for (let i = 0; i < actions.length; i += 10) await dm.write(actions.slice(i, i + 10));
  t = performance.now();
  const second = (await dm.checkpoint({ force: true }))!;
  // bytes changed = the encoded entries that changed (what an ideal checkpoint would write)
  const changedBytes = actions.reduce(
    (s, a) =>
      s +
      JSON.stringify({
        id: a.id,
        data_type: 'project',
        data: Buffer.from(a.data).toString('base64'),
      }).length +
      1,
    0,
  );
  const files = second.status.files['project']!.length;
  console.log(
    `100 random changes: ${fmt((performance.now() - t) / 1000, 2)} s, rewrote ${second.filesWritten} of ${files} files, ${fmt(second.bytesWritten / 2 ** 20, 2)} MiB; rewritten/changed = ${fmt(second.bytesWritten / changedBytes, 0)} (bounded by the touched files: ${second.filesWritten} x <= 10 MiB)`,
  );
  return { entries, id, ost, status: second.status };
}

async function benchReads(
  dm: DataManager,
  ost: ObjectStorage,
  info: Awaited<ReturnType<typeof benchCheckpoint>>,
) {
  console.log('\n## read latency of a random entry vs a raw ranged read of the same bytes');
  const files = info.status.files['project']!;
  // The raw baseline reads exactly the entry's bytes, with offsets known in advance.
  const offsets = new Map<string, { key: string; start: number; end?: number }>();
  for (const f of files) {
    const index = JSON.parse(
      (await readAll(ost, `bench/${ostPaths.dataIndex('project', f.id)}`)).toString(),
    ) as { index: Record<string, number> };
    const sorted = Object.entries(index.index).sort((a, b) => a[1] - b[1]);
    sorted.forEach(([entryId, start], i) =>
      offsets.set(entryId, {
        key: `bench/${ostPaths.dataFile('project', f.id)}`,
        start,
        end: sorted[i + 1]?.[1],
      }),
    );
  }
  const n = 3000;
  const ids = Array.from({ length: n }, () => info.id(Math.floor(Math.random() * info.entries)));
  const time = async (fn: (id: string) => Promise<unknown>) => {
    const lat: number[] = [];
    for (const entryId of ids) {
      const t = performance.now();
      await fn(entryId);
      lat.push(performance.now() - t);
    }
    return lat.sort((a, b) => a - b);
  };
  // warm both paths (index cache, page cache) once
  await time((entryId) => dm.read('project', entryId));
  const raw = await time((entryId) => {
    const o = offsets.get(entryId)!;
    return readAll(ost, o.key, o.start, o.end);
  });
  const dmLat = await time((entryId) => dm.read('project', entryId));
  console.log(
    `raw ranged read: p50 ${fmt(percentile(raw, 50), 3)} ms, p99 ${fmt(percentile(raw, 99), 3)} ms`,
  );
  console.log(
    `dm.read:         p50 ${fmt(percentile(dmLat, 50), 3)} ms, p99 ${fmt(percentile(dmLat, 99), 3)} ms`,
  );
  console.log(
    `ratio: p50 ${fmt(percentile(dmLat, 50) / percentile(raw, 50), 2)}x, p99 ${fmt(percentile(dmLat, 99) / percentile(raw, 99), 2)}x`,
  );
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'dm-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const ost = createPosixStorage({ path: dir });
  // one datamanager per part, so each measures only its own data
  const make = (basePath: string, prefix: string) =>
    createDataManager({
      etcd: etcd.withPrefix(prefix),
      ost,
      basePath,
      dataTypes: ['user', 'project'],
      etcdWalsKeepNum: 1,
      intervals: quiet,
      // the bench measures throughput, not the durability bound
      maxUnsyncedWals: 1_000_000,
    });
  const commits = make('commits', 'commits/');
  const data = make('bench', 'data/');
  try {
    console.log('# @agola-ts/datamanager benchmark (etcd 3.4 + posix storage on this machine)');
    await commits.start();
    await benchCommits(etcd, commits);
    await benchSustained(etcd, etcd.withPrefix('commits/'), commits);
    await commits.stop();
    if (process.env['BENCH_COMMITS_ONLY']) return;
    await data.start();
    const info = await benchCheckpoint(data, ost);
    // clean the checkpointed wals from etcd so reads go to the data files, not to memory
    await data.clean();
    await benchReads(data, ost, info);
  } finally {
    await commits.stop();
    await data.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

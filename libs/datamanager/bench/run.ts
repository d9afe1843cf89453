// Datamanager benchmark (npm run bench): every figure next to a raw baseline measured in the
// same run, against the same etcd and the same posix storage. The change feed's phases (full
// sync into sqlite, write -> applied lag) are in feed.ts (npm run bench:feed).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager, ostPaths, type DataManager } from '../src/index.js';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
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

async function benchCommits(etcd: EtcdClient, dm: DataManager) {
  console.log(
    '\n## write commits/s, disjoint change groups, vs raw etcd puts/s (same concurrency)',
  );
  console.log('writers | raw put/s | dm commits/s | ratio | raw p50 ms | dm p50 ms | dm p99 ms');
  const value = 'x'.repeat(200);
  for (const concurrency of [1, 16, 64]) {
    const raw = await throughput(concurrency, 3000, (w, i) =>
      etcd.put(`raw/${w}/${i % 50}`, value).then(() => undefined),
    );
    const tokens = Array.from({ length: concurrency }, (_, w) =>
      dm.changeGroupsToken([`bench-${concurrency}-${w}`]),
    );
    const dmRes = await throughput(concurrency, 3000, async (w, i) => {
      const res = await dm.write(
        [
          {
            actionType: 'put',
            dataType: 'user',
            id: `c${concurrency}-${w}-${i % 50}`,
            data: value,
          },
        ],
        tokens[w],
      );
      tokens[w] = res.changeGroupsToken;
    });
    console.log(
      `${String(concurrency).padStart(7)} | ${fmt(raw.perSecond, 0).padStart(9)} | ${fmt(dmRes.perSecond, 0).padStart(12)} | ${fmt(dmRes.perSecond / raw.perSecond, 2).padStart(5)} | ${fmt(raw.p50, 2).padStart(10)} | ${fmt(dmRes.p50, 2).padStart(9)} | ${fmt(dmRes.p99, 2).padStart(9)}`,
    );
    if (concurrency === 1) {
      console.log(
        `single-writer commit latency: ${fmt(dmRes.p50 / raw.p50, 2)}x one raw etcd put (p50 ${fmt(dmRes.p50, 2)} ms vs ${fmt(raw.p50, 2)} ms)`,
      );
    }
  }
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
    });
  const commits = make('commits', 'commits/');
  const data = make('bench', 'data/');
  try {
    console.log('# @agola-ts/datamanager benchmark (etcd 3.4 + posix storage on this machine)');
    await commits.start();
    await benchCommits(etcd, commits);
    await commits.stop();
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

// Runservice benchmark (npm run bench): run creations/s with 32 HTTP clients next to the
// datamanager's commits/s, then the time from a run's start (changephase → running) to its
// first task reaching a protocol-level executor, with push dispatch and with loops only (as
// Agola). Everything against one etcd and posix storage on this machine; bounded in time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager } from '@agola-ts/datamanager';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createPosixStorage, type ObjectStorage } from '@agola-ts/ost';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { startEtcd } from '@agola-ts/testkit';
import type { RunCreateRequest } from '@agola-ts/types';
import { createRunservice, type Runservice } from '../src/index.js';
import { startTestExecutor } from '../test/test-executor.js';

const CLIENTS = 32;
const PART_MS = Number(process.env['BENCH_PART_MS'] ?? 5000);
const PUSH_RUNS = Number(process.env['BENCH_PUSH_RUNS'] ?? 40);
const LOOP_RUNS = Number(process.env['BENCH_LOOP_RUNS'] ?? 12);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const fmt = (n: number, d = 1) => n.toFixed(d);

interface Result {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function throughput(op: (worker: number, i: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + PART_MS;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        if (!(await op(w, i).catch(() => false))) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

const row = (name: string, r: Result) =>
  console.log(
    `${name.padEnd(40)} | ${fmt(r.perSecond, 0).padStart(7)} | ${fmt(r.p50, 2).padStart(7)} | ${fmt(r.p99, 2).padStart(8)} | ${String(r.errors).padStart(6)}`,
  );

const oneTask = (group: string, taskId: string): RunCreateRequest => ({
  name: 'bench',
  group,
  run_config_tasks: {
    [taskId]: {
      id: taskId,
      name: taskId,
      level: 0,
      depends: {},
      runtime: {
        type: 'pod',
        containers: [{ image: 'busybox', privileged: false, entrypoint: '', volumes: [] }],
      },
      steps: [{ type: 'run', name: 'echo', command: 'echo hi' }],
    },
  },
});

async function startRs(
  dir: string,
  name: string,
  etcd: EtcdClient,
  ost: ObjectStorage,
  pushDispatch: boolean,
): Promise<{ rs: Runservice; client: RunserviceClient }> {
  const rs = createRunservice(
    {
      dataDir: join(dir, name),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: join(dir, 'ost') },
      pushDispatch,
    },
    { etcd: etcd.withPrefix(`${name}/`), ost },
  );
  await rs.start();
  return { rs, client: createRunserviceClient({ baseUrl: rs.url ?? '' }) };
}

/** Start → first task received by the executor, for `n` runs started `gapMs` apart. */
async function dispatchLatency(client: RunserviceClient, tag: string, n: number, gapMs: number) {
  const ex = await startTestExecutor({ id: `ex-${tag}`, client, recordOnly: true });
  try {
    const ids: { runId: string; taskId: string }[] = [];
    for (let i = 0; i < n; i++) {
      const taskId = `${tag}-${i}`;
      const { run } = await client.createRun(oneTask(`/project/${tag}${i}/branch/main`, taskId));
      ids.push({ runId: run.id, taskId });
    }
    const latencies: number[] = [];
    await Promise.all(
      ids.map(async ({ runId, taskId }, i) => {
        await new Promise((r) => setTimeout(r, i * gapMs + Math.random() * gapMs));
        const t0 = performance.now();
        await client.startRun(runId);
        const deadline = Date.now() + 30_000;
        while (!ex.receivedAt.has(taskId) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 1));
        }
        const at = ex.receivedAt.get(taskId);
        if (at !== undefined) latencies.push(at - t0);
      }),
    );
    latencies.sort((a, b) => a - b);
    const twice = [...ex.received.values()].filter((c) => c > 1).length;
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      n: latencies.length,
      twice,
    };
  } finally {
    await ex.close();
  }
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'rs-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const ost = createPosixStorage({ path: join(dir, 'ost') });
  const dm = createDataManager({
    etcd: etcd.withPrefix('dm/'),
    ost,
    basePath: 'dmbench',
    dataTypes: ['runconfig'],
  });
  const started: Runservice[] = [];
  try {
    console.log(
      `# @agola-ts/runservice benchmark: ${CLIENTS} concurrent HTTP clients on loopback, ${PART_MS / 1000} s per part`,
    );
    console.log('# (etcd 3.4 + posix storage + sqlite readdb on this machine)');
    const push = await startRs(dir, 'push', etcd, ost, true);
    started.push(push.rs);
    console.log(
      '\npart                                     |     n/s |  p50 ms |   p99 ms | errors',
    );
    // one project per client: each client's runs take its own counter change group
    const creates = await throughput(async (w, i) => {
      await push.client.createRun(oneTask(`/project/bench${w}/branch/main`, `c-${w}-${i}`));
      return true;
    });
    row('POST /runs (1 task, a project per client)', creates);
    const sameProject = await throughput(async (w, i) => {
      await push.client.createRun(oneTask('/project/shared/branch/main', `s-${w}-${i}`));
      return true;
    });
    row('POST /runs (all in one project)', sameProject);
    await dm.start();
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, w) => dm.changeGroupsToken([`bench-${w}`])),
    );
    const body = JSON.stringify(oneTask('/project/x', 'x'));
    const commits = await throughput(async (w, i) => {
      const res = await dm.write(
        [{ actionType: 'put', dataType: 'runconfig', id: `r-${w}-${i}`, data: body }],
        tokens[w],
      );
      tokens[w] = res.changeGroupsToken;
      return true;
    });
    row('datamanager commits (1 put each)', commits);
    await dm.stop();
    console.log(
      `\ncreates: ${fmt(creates.perSecond, 0)}/s = ${fmt(creates.perSecond / commits.perSecond, 2)}x the datamanager's ${fmt(commits.perSecond, 0)} commits/s (a create is a sequence, one commit, the readdb apply and an etcd txn)`,
    );

    // a fresh instance for the latency parts: the creation parts left hundreds of queued runs
    await push.rs.stop();
    started.splice(started.indexOf(push.rs), 1);
    const fresh = await startRs(dir, 'push2', etcd, ost, true);
    started.push(fresh.rs);
    const pushLat = await dispatchLatency(fresh.client, 'push', PUSH_RUNS, 50);
    const loops = await startRs(dir, 'loops', etcd, ost, false);
    started.push(loops.rs);
    const loopLat = await dispatchLatency(loops.client, 'loops', LOOP_RUNS, 250);
    console.log('\nstart → task at the executor   |  runs | p50 ms | p99 ms | sent twice');
    const lrow = (name: string, r: typeof pushLat) =>
      console.log(
        `${name.padEnd(30)} | ${String(r.n).padStart(5)} | ${fmt(r.p50, 1).padStart(6)} | ${fmt(r.p99, 1).padStart(6)} | ${r.twice}`,
      );
    lrow('push dispatch', pushLat);
    lrow('loops only (Agola periods)', loopLat);
    console.log(
      `\npush p50 ${fmt(pushLat.p50, 1)} ms (goal < 50 ms); ${fmt(loopLat.p50 / pushLat.p50, 1)}x faster than loops only (goal >= 20x)`,
    );
    const mem = process.memoryUsage();
    console.log(
      `RSS ${fmt(mem.rss / 2 ** 20, 0)} MiB, heap used ${fmt(mem.heapUsed / 2 ** 20, 0)} MiB (the runservices, the clients, the executor and the datamanager in this process)`,
    );
  } finally {
    for (const rs of started) await rs.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

// Executor service benchmark (second part of `npm run bench`): a runservice (etcd, posix
// storage), the scheduler and one executor in this process, for the local driver and then the
// docker driver on podman (when installed). Steps print `date +%s%N` so the figures are taken
// where things happen, not by polling. Bounded: about a minute per driver.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdClient } from '@agola-ts/etcd';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { createScheduler } from '@agola-ts/scheduler';
import { startContainerRuntime, startEtcd } from '@agola-ts/testkit';
import type { RunConfigTask } from '@agola-ts/types';
import { createExecutor, type ExecutorDriverConfig } from '../src/index.js';

const fmt = (n: number, d = 0) => n.toFixed(d);
function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  return { p50: at(50), p99: at(99) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
function task(name: string, image: string, command: string, parent?: string): RunConfigTask {
  const id = `${name}-${process.pid}-${++seq}`;
  return {
    id,
    name,
    level: 0,
    depends: parent ? { [parent]: { task_id: parent, conditions: ['on_success'] } } : {},
    runtime: {
      type: 'pod',
      containers: [{ image, privileged: false, entrypoint: '', volumes: [] }],
    },
    steps: [{ type: 'run', command, tty: false }],
  };
}

async function logOf(c: RunserviceClient, runId: string, taskId: string): Promise<string> {
  let s = '';
  for await (const ch of await c.getLogs({ runId, taskId, step: 0 })) s += Buffer.from(ch);
  return s;
}
async function waitFinished(c: RunserviceClient, runIds: string[]): Promise<void> {
  const left = new Set(runIds);
  const deadline = Date.now() + 180_000;
  while (left.size > 0) {
    if (Date.now() > deadline) throw new Error(`${left.size} runs did not finish`);
    for (const id of [...left]) {
      const { run } = await c.getRun(id);
      if (run.phase === 'finished') {
        if (run.result !== 'success') throw new Error(`run ${id} ended ${run.result}`);
        left.delete(id);
      }
    }
    if (left.size > 0) await sleep(20);
  }
}
/**
 * How a step prints the time and how it is read back as epoch ms: `date +%s%N` on the host
 * (local driver); busybox's date has no `%N`, so in containers the kernel's /proc/uptime,
 * which the host shares (10 ms resolution), shifted by the host's offset.
 */
interface Clock {
  cmd: string;
  toEpochMs(printed: string): number;
}
const hostClock: Clock = {
  cmd: 'date +%s%N',
  toEpochMs: (p) => Number(BigInt(p.trim()) / 1000n) / 1000,
};
function uptimeClock(): Clock {
  const offset = Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return {
    cmd: "cut -d' ' -f1 /proc/uptime",
    toEpochMs: (p) => Number(p.trim()) * 1000 + offset,
  };
}

async function benchDriver(
  name: string,
  driver: ExecutorDriverConfig,
  image: string,
  clock: Clock,
) {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'exec-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const rs = createRunservice(
    {
      dataDir: join(dir, 'rs'),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: join(dir, 'ost') },
    },
    { etcd },
  );
  await rs.start();
  const c = createRunserviceClient({ baseUrl: rs.url! });
  const scheduler = createScheduler({ runserviceURL: rs.url! });
  await scheduler.start();
  const executor = createExecutor({
    dataDir: join(dir, 'ex'),
    runserviceURL: rs.url!,
    web: { listen: { host: '127.0.0.1', port: 0 } },
    driver,
  });
  await executor.start();
  let group = 0;
  const create = async (tasks: RunConfigTask[]) => {
    const { run } = await c.createRun({
      name: 'bench',
      group: `/project/bench/branch/b${++group}`,
      run_config_tasks: Object.fromEntries(tasks.map((t) => [t.id, t])),
    });
    return run.id;
  };
  try {
    // 1. queued -> first step running (the step prints its start time)
    const firstStep: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = task('one', image, clock.cmd);
      const t0 = Date.now();
      const id = await create([t]);
      await waitFinished(c, [id]);
      firstStep.push(clock.toEpochMs(await logOf(c, id, t.id)) - t0);
    }
    const fs = stats(firstStep);
    console.log(
      `${name.padEnd(8)} queued -> first step running: p50 ${fmt(fs.p50)} ms, p99 ${fmt(fs.p99)} ms (${firstStep.length} runs)`,
    );

    // 2. a five-task chain: scheduling overhead = time to the last step minus the steps' time
    const chains: number[] = [];
    for (let i = 0; i < 3; i++) {
      const tasks: RunConfigTask[] = [];
      for (let k = 0; k < 5; k++) tasks.push(task(`c${k}`, image, clock.cmd, tasks[k - 1]?.id));
      const t0 = Date.now();
      const id = await create(tasks);
      await waitFinished(c, [id]);
      chains.push(clock.toEpochMs(await logOf(c, id, tasks[4]!.id)) - t0);
    }
    const ch = stats(chains);
    console.log(
      `${name.padEnd(8)} five-task chain, queued -> last step running: p50 ${fmt(ch.p50)} ms ` +
        `(${fmt(ch.p50 / 5)} ms per task; the steps themselves take ~1 ms)`,
    );

    // 3. 50 concurrent one-step runs
    const t0 = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 50 }, () => create([task('c', image, 'true')])),
    );
    await waitFinished(c, ids);
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `${name.padEnd(8)} 50 concurrent one-step runs: ${fmt(secs, 1)} s, ${fmt((50 / secs) * 60)} runs/min`,
    );

    // 4. log line written -> read by a runservice log-follow client
    const lag: number[] = [];
    const t = task('log', image, `for i in $(seq 1 60); do ${clock.cmd}; sleep 0.05; done`);
    const id = await create([t]);
    for (;;) {
      const { run } = await c.getRun(id);
      if (run.tasks[t.id]?.steps[0]?.phase === 'running') break;
      await sleep(5);
    }
    let buf = '';
    for await (const chunk of await c.getLogs(
      { runId: id, taskId: t.id, step: 0 },
      { follow: true },
    )) {
      const at = Date.now();
      buf += Buffer.from(chunk).toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines)
        if (/^\d+(?:\.\d+)?$/.test(l.trim())) lag.push(at - clock.toEpochMs(l));
    }
    const lg = stats(lag.slice(1));
    console.log(
      `${name.padEnd(8)} log line written -> read through the runservice (follow): p50 ${fmt(lg.p50, 1)} ms, p99 ${fmt(lg.p99, 1)} ms (${lag.length} lines)`,
    );
  } finally {
    await executor.stop();
    await scheduler.stop();
    await rs.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `executor service bench (node ${process.version}; shared machine: figures are indicative)`,
  );
  await benchDriver('local', { type: 'local' }, 'ignored', hostClock);
  if (process.argv.includes('--local-only')) return;
  let rt: Awaited<ReturnType<typeof startContainerRuntime>> | undefined;
  try {
    rt = await startContainerRuntime();
  } catch (err) {
    console.log(`docker   skipped: ${(err as Error).message.split('\n')[0]}`);
  }
  if (rt) {
    try {
      await benchDriver(
        'docker',
        { type: 'docker', socketPath: rt.socketPath, networkMode: 'none' },
        rt.busyboxImage,
        uptimeClock(),
      );
    } finally {
      await rt.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

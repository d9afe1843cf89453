import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdClient } from '@agola-ts/etcd';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { createScheduler, type Scheduler } from '@agola-ts/scheduler';
import { createTestLogger, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import type { RunConfigStep, RunConfigTask, RunCreateRequest, Run } from '@agola-ts/types';
import {
  createExecutor,
  type AgolaExecutor,
  type ExecutorConfig,
  type ExecutorDriverConfig,
} from '../src/index.js';

/** How the executors of a stack run tasks. */
export interface DriverSetup {
  driver: ExecutorDriverConfig;
  image: string;
}

/** Options of one executor of a stack. */
export interface ExecutorOptions {
  activeTasksLimit?: number;
  dataDir?: string;
}

/** A runservice + scheduler + executors on a fresh etcd prefix and posix storage. */
export interface Stack {
  client: RunserviceClient;
  rsUrl: string;
  scheduler: Scheduler;
  executors: AgolaExecutor[];
  image: string;
  /** Starts one more executor (a fresh data dir unless given). */
  addExecutor(o?: ExecutorOptions): Promise<AgolaExecutor>;
  /**
   * Creates a run of these tasks in `/project/<project>/branch/main` (the task ids are
   * replaced by fresh ones; depends name the tasks by name).
   */
  createRun(tasks: RunConfigTask[], extra?: Partial<RunCreateRequest>): Promise<string>;
  /** Waits until the run is in `phase` (and has `result`). */
  waitRun(runId: string, phase: string, result?: string, timeoutMs?: number): Promise<Run>;
  /** A step's log as read through the runservice. */
  log(runId: string, taskId: string, step: number | 'setup'): Promise<string>;
  /** The run task id of the config task named `name`. */
  taskId(runId: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

let projectSeq = 0;

/** Retries `fn` until it stops throwing (at most `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts a stack; `executors` executors are started at once. */
export async function startStack(
  setup: DriverSetup,
  o: { executors?: ExecutorOptions[] } = {},
): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  const etcd = createEtcdClient({
    endpoints: [await sharedEtcdEndpoint()],
    prefix: uniquePrefix('e2e'),
  });
  const ostDir = await mkdtemp(join(tmpdir(), 'e2e-ost-'));
  const rsDir = await mkdtemp(join(tmpdir(), 'e2e-rs-'));
  cleanups.push(async () => {
    etcd.close();
    await rm(ostDir, { recursive: true, force: true });
    await rm(rsDir, { recursive: true, force: true });
  });
  const rs = createRunservice(
    {
      dataDir: rsDir,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: ostDir },
    },
    { etcd, retryMs: 100, logger: createTestLogger('runservice') },
  );
  await rs.start();
  cleanups.push(() => rs.stop());
  const rsUrl = rs.url!;
  const client = createRunserviceClient({ baseUrl: rsUrl });
  const scheduler = createScheduler(
    { runserviceURL: rsUrl },
    { logger: createTestLogger('scheduler') },
  );
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  const executors: AgolaExecutor[] = [];
  const project = `p${process.pid}x${++projectSeq}`;

  const addExecutor = async (eo: ExecutorOptions = {}) => {
    const dataDir = eo.dataDir ?? (await mkdtemp(join(tmpdir(), 'e2e-ex-')));
    const config: ExecutorConfig = {
      dataDir,
      runserviceURL: rsUrl,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      driver: setup.driver,
      ...(eo.activeTasksLimit !== undefined ? { activeTasksLimit: eo.activeTasksLimit } : {}),
    };
    const ex = createExecutor(config, {
      logger: createTestLogger('executor'),
      intervals: { tasksMs: 500, heartbeatMs: 1000 },
    });
    await ex.start();
    executors.push(ex);
    cleanups.push(async () => {
      await ex.stop();
      if (eo.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    });
    return ex;
  };
  for (const eo of o.executors ?? [{}]) await addExecutor(eo);

  return {
    client,
    rsUrl,
    scheduler,
    executors,
    image: setup.image,
    addExecutor,
    async createRun(tasks, extra = {}) {
      // run task ids are global (etcd keys, storage paths): fresh ones for every run
      const ids = new Map(tasks.map((t) => [t.name, randomUUID()]));
      const idOf = (name: string) => ids.get(name) ?? name;
      const remapped = tasks.map((t) => ({
        ...t,
        id: idOf(t.name),
        depends: Object.fromEntries(
          Object.values(t.depends).map((d) => [
            idOf(d.task_id),
            { ...d, task_id: idOf(d.task_id) },
          ]),
        ),
      }));
      const { run } = await client.createRun({
        name: 'ci',
        group: `/project/${project}/branch/main`,
        run_config_tasks: Object.fromEntries(remapped.map((t) => [t.id, t])),
        ...extra,
      });
      return run.id;
    },
    waitRun: (runId, phase, result, timeoutMs = 60_000) =>
      eventually(async () => {
        const { run } = await client.getRun(runId);
        if (run.phase !== phase || (result !== undefined && run.result !== result)) {
          throw new Error(
            `run ${runId} is ${run.phase}/${run.result}, waiting for ${phase}/${result ?? '*'}`,
          );
        }
        return run;
      }, timeoutMs),
    async log(runId, taskId, step) {
      const ref =
        step === 'setup' ? { runId, taskId, setup: true as const } : { runId, taskId, step };
      const chunks: Buffer[] = [];
      for await (const c of await client.getLogs(ref)) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks).toString('utf8');
    },
    async taskId(runId, name) {
      const { run_config } = await client.getRun(runId);
      const t = Object.values(run_config.tasks).find((x) => x.name === name);
      if (!t) throw new Error(`no task ${name}`);
      return t.id;
    },
    async stop() {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    },
  };
}

/** A run config task with these steps, in a pod of `image`. */
export function task(
  name: string,
  image: string,
  steps: RunConfigStep[],
  o: Partial<Pick<RunConfigTask, 'environment' | 'needs_approval' | 'ignore_failure'>> & {
    depends?: Record<string, ('on_success' | 'on_failure' | 'on_skipped')[]>;
  } = {},
): RunConfigTask {
  const { depends, ...rest } = o;
  return {
    id: name,
    name,
    level: 0,
    depends: Object.fromEntries(
      Object.entries(depends ?? {}).map(([p, c]) => [p, { task_id: p, conditions: c }]),
    ),
    runtime: {
      type: 'pod',
      containers: [{ image, privileged: false, entrypoint: '', volumes: [] }],
    },
    steps,
    ...rest,
  };
}

/** A `run` step. */
export const run = (
  command: string,
  extra: Partial<Extract<RunConfigStep, { type: 'run' }>> = {},
): RunConfigStep => ({
  type: 'run',
  name: command.slice(0, 20),
  command,
  ...extra,
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createObjectStorage, type ObjectStorage, type ObjectStorageConfig } from '@agola-ts/ost';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { createTestLogger, freshBucket, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import type { RunConfigTask, RunCreateRequest } from '@agola-ts/types';
import { createRunservice, type Runservice, type RunserviceIntervals } from '../src/index.js';
import { startTestExecutor, type TestExecutor, type TestExecutorOptions } from './test-executor.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An installation: one etcd prefix and one object storage. */
export interface Installation {
  etcd: EtcdClient;
  ost: ObjectStorage | undefined;
  ostConfig: ObjectStorageConfig;
  /** The shared etcd's endpoint and this installation's prefix (for child processes). */
  etcdEndpoint: string;
  etcdPrefix: string;
}

export async function newInstallation(): Promise<Installation> {
  const etcdEndpoint = await sharedEtcdEndpoint();
  const etcdPrefix = uniquePrefix('rs');
  const etcd = createEtcdClient({ endpoints: [etcdEndpoint], prefix: etcdPrefix });
  const ostDir = await mkdtemp(join(tmpdir(), 'rs-ost-'));
  cleanups.push(async () => {
    etcd.close();
    await rm(ostDir, { recursive: true, force: true });
  });
  const ostConfig: ObjectStorageConfig = { type: 'posix', path: ostDir };
  return { etcd, ost: createObjectStorage(ostConfig), ostConfig, etcdEndpoint, etcdPrefix };
}

/** An installation on a fresh bucket of the test run's S3 server. */
export async function newS3Installation(): Promise<Installation> {
  const etcdEndpoint = await sharedEtcdEndpoint();
  const etcdPrefix = uniquePrefix('rs');
  const etcd = createEtcdClient({ endpoints: [etcdEndpoint], prefix: etcdPrefix });
  cleanups.push(async () => etcd.close());
  const conn = await freshBucket();
  return {
    etcd,
    etcdEndpoint,
    etcdPrefix,
    ost: undefined,
    ostConfig: {
      type: 's3',
      bucket: conn.bucket,
      endpoint: conn.endpoint,
      region: conn.region,
      accessKeyId: conn.accessKeyId,
      secretAccessKey: conn.secretAccessKey,
      forcePathStyle: true,
    },
  };
}

export interface Instance {
  rs: Runservice;
  client: RunserviceClient;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface InstanceOptions {
  dataDir?: string;
  pushDispatch?: boolean;
  intervals?: Partial<RunserviceIntervals>;
  cacheExpireMs?: number;
  workspaceExpireMs?: number;
}

/** Starts a runservice instance of `inst` (a fresh data dir unless given). */
export async function startInstance(
  inst: Installation,
  o: InstanceOptions = {},
): Promise<Instance> {
  const dir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'rs-data-')));
  const rs = createRunservice(
    {
      dataDir: dir,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: inst.ostConfig,
      pushDispatch: o.pushDispatch ?? true,
      ...(o.cacheExpireMs !== undefined ? { runCacheExpireInterval: o.cacheExpireMs } : {}),
      ...(o.workspaceExpireMs !== undefined
        ? { runWorkspaceExpireInterval: o.workspaceExpireMs }
        : {}),
    },
    {
      etcd: inst.etcd,
      ...(inst.ost ? { ost: inst.ost } : {}),
      retryMs: 100,
      logger: createTestLogger('runservice'),
      ...(o.intervals ? { intervals: o.intervals } : {}),
    },
  );
  await rs.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await rs.stop();
  };
  cleanups.push(async () => {
    await stop();
    if (o.dataDir === undefined) await rm(dir, { recursive: true, force: true });
  });
  const url = rs.url!;
  return { rs, client: createRunserviceClient({ baseUrl: url }), url, dataDir: dir, stop };
}

/** Starts a fresh installation with one instance. */
export async function startFresh(
  o: InstanceOptions = {},
): Promise<Instance & { inst: Installation }> {
  const inst = await newInstallation();
  return { ...(await startInstance(inst, o)), inst };
}

/** Starts a test executor, closed after the test. */
export async function startExecutor(o: TestExecutorOptions): Promise<TestExecutor> {
  const ex = await startTestExecutor(o);
  cleanups.push(() => ex.close());
  return ex;
}

/** The RemoteError a call rejects with (fails the test when it resolves). */
export async function remoteError(p: Promise<unknown>): Promise<RemoteError> {
  const result = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (result.ok) throw new Error(`expected a RemoteError, got ${JSON.stringify(result.v)}`);
  if (!(result.e instanceof RemoteError)) throw result.e;
  return result.e;
}

/** Retries `fn` until it stops throwing (at most `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
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

/** A task with `n` run steps (and optionally a save_to_workspace step). */
export function task(
  id: string,
  o: {
    depends?: Record<string, ('on_success' | 'on_failure' | 'on_skipped')[]>;
    steps?: number;
    save?: boolean;
    approval?: boolean;
    ignoreFailure?: boolean;
    skip?: boolean;
  } = {},
): RunConfigTask {
  const steps: RunConfigTask['steps'] = Array.from({ length: o.steps ?? 1 }, (_, i) => ({
    type: 'run' as const,
    name: `step ${i}`,
    command: `echo ${i}`,
  }));
  if (o.save)
    steps.push({
      type: 'save_to_workspace',
      contents: [{ source_dir: '.', dest_dir: '.', paths: ['**'] }],
    });
  return {
    id,
    name: id,
    level: 0,
    depends: Object.fromEntries(
      Object.entries(o.depends ?? {}).map(([p, c]) => [p, { task_id: p, conditions: c }]),
    ),
    runtime: {
      type: 'pod',
      containers: [{ image: 'busybox', privileged: false, entrypoint: '', volumes: [] }],
    },
    steps,
    ...(o.approval ? { needs_approval: true } : {}),
    ...(o.ignoreFailure ? { ignore_failure: true } : {}),
    ...(o.skip ? { skip: true } : {}),
  };
}

/** A run create request for `/project/<project>/branch/main`. */
export function runRequest(
  tasks: RunConfigTask[],
  project = 'p1',
  extra: Partial<RunCreateRequest> = {},
): RunCreateRequest {
  return {
    name: 'ci',
    group: `/project/${project}/branch/main`,
    run_config_tasks: Object.fromEntries(tasks.map((t) => [t.id, t])),
    ...extra,
  };
}

/** Waits for a run to reach a phase (and result). */
export async function waitRun(
  client: RunserviceClient,
  runId: string,
  phase: string,
  result?: string,
  timeoutMs = 20_000,
) {
  return eventually(async () => {
    const { run } = await client.getRun(runId);
    if (run.phase !== phase || (result !== undefined && run.result !== result)) {
      throw new Error(
        `run ${runId} is ${run.phase}/${run.result}, waiting for ${phase}/${result ?? '*'}`,
      );
    }
    return run;
  }, timeoutMs);
}

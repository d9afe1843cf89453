import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { pino } from 'pino';
import { badRequest, newError, notExist, RemoteError } from '@agola-ts/errors';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  API_PREFIX,
  createServiceHealth,
  createServiceServer,
  healthProblemOf,
  HEALTH_PATH,
  sendHealth,
  type HostPort,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import type { Executor, ExecutorTaskStatus, ExecutorTaskWithData } from '@agola-ts/types';
import { ExecutorErrorCodes } from '../codes.js';
import { createDockerDriver } from '../driver/docker.js';
import { createLocalDriver } from '../driver/local.js';
import type { Driver } from '../driver/types.js';
import { createRunserviceArtifactStore } from './artifact-store.js';
import { followFile, LogWatchers } from './log-file.js';
import { executeTask, isFinal, RunningTask, taskPaths } from './task-runner.js';

/** The driver part of the executor config (the executor id is filled in by the executor). */
export type ExecutorDriverConfig =
  | { type: 'local'; /** @default `<dataDir>/pods` */ podsDir?: string; path?: string }
  | { type: 'docker'; socketPath?: string; networkMode?: string };

/** The executor's config (Agola's `executor` section keys). */
export interface ExecutorConfig {
  /** Holds the executor id (`id`), the tasks' logs and archives (`tasks/`), local pods. */
  dataDir: string;
  /** The runservice URL, with or without `/api/v1alpha`. */
  runserviceURL: string;
  /** Where the executor's API listens. */
  web: { listen: HostPort };
  /**
   * The URL the runservice reaches this executor at. @default `http://<listen host>:<port>`
   * (`127.0.0.1` when listening on all interfaces)
   */
  listenURL?: string;
  driver: ExecutorDriverConfig;
  /** Labels sent with the heartbeat. */
  labels?: Record<string, string>;
  /** At most this many tasks run at once (exactly; 0 = no limit). @default 0 */
  activeTasksLimit?: number;
  /** Allows tasks with privileged containers. @default false */
  allowPrivilegedContainers?: boolean;
}

/** Loop periods of the executor (Agola's by default). */
export interface ExecutorIntervals {
  /** Heartbeat (`POST /executor/{id}`). @default 2000 */
  heartbeatMs: number;
  /** Re-send of the status of every task. @default 2000 */
  statusMs: number;
  /** Poll of the assigned tasks (`GET /executor/{id}/tasks`). @default 2000 */
  tasksMs: number;
  /** Removal of pods without a running task. @default 1000 */
  podsCleanerMs: number;
  /** Removal of the data of tasks the runservice forgot. @default 2000 */
  dataCleanerMs: number;
  /** Longest wait of a log follower between two checks. @default 500 */
  followPollMs: number;
}

/** The default loop periods (Agola's). */
export const DEFAULT_EXECUTOR_INTERVALS: ExecutorIntervals = {
  heartbeatMs: 2000,
  statusMs: 2000,
  tasksMs: 2000,
  podsCleanerMs: 1000,
  dataCleanerMs: 2000,
  followPollMs: 500,
};

/** What the executor is given besides its config (all optional). */
export interface ExecutorDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
  /** A runservice client to use instead of one built from `runserviceURL`. */
  client?: RunserviceClient;
  /** Loop periods, mostly for tests. */
  intervals?: Partial<ExecutorIntervals>;
}

/** An executor service, created stopped. */
export interface AgolaExecutor {
  /** Reads (or creates) its id, sets up the driver, listens, registers and starts its loops. */
  start(): Promise<void>;
  /**
   * Stops the loops and the server. Running tasks are stopped and reported `stopped`, unless
   * `abandon` is set: then nothing more is sent or stopped (what a crash leaves, for tests).
   */
  stop(options?: { abandon?: boolean }): Promise<void>;
  /** The executor id (once started). */
  readonly id: string | undefined;
  /** The URL the runservice reaches it at (once started). */
  readonly listenURL: string | undefined;
  /** Ids of the tasks running now. */
  readonly activeTasks: string[];
  /** The highest number of tasks that ran at once since the start. */
  readonly maxActiveTasks: number;
  /** The fastify instance (once started). */
  readonly app: FastifyInstance | undefined;
  /** The driver (once started). */
  readonly driver: Driver | undefined;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function apiBase(runserviceURL: string): string {
  let u = runserviceURL;
  while (u.endsWith('/')) u = u.slice(0, -1);
  return u.endsWith(API_PREFIX) ? u : `${u}${API_PREFIX}`;
}

function hostOf(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Creates an executor (reference §8): its id is kept in `<dataDir>/id`; it registers with a
 * heartbeat (archs, labels, limits, active tasks), receives tasks pushed by the runservice
 * (`POST /api/v1alpha/executor`) and polls for them, runs each in a pod of its driver, sends
 * the task status on every change (and again every 2 s), and serves the live logs
 * (`GET /api/v1alpha/executor/logs`, with `follow`) and workspace archives
 * (`GET /api/v1alpha/executor/archives`). `activeTasksLimit` is honoured exactly. A task the
 * runservice says is running but this executor does not run (after a restart) is failed with
 * its running steps. Every log goes through the secret masker.
 *
 * @example
 * ```ts
 * const executor = createExecutor(
 *   {
 *     dataDir: '/var/lib/agola/executor',
 *     runserviceURL: 'http://127.0.0.1:4003',
 *     web: { listen: { host: '127.0.0.1', port: 4001 } },
 *     driver: { type: 'docker' },
 *     activeTasksLimit: 2,
 *   },
 *   { logger },
 * );
 * await executor.start();
 * ```
 */
export function createExecutor(config: ExecutorConfig, deps: ExecutorDeps = {}): AgolaExecutor {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const log = logger.child({ component: 'executor' });
  const intervals = { ...DEFAULT_EXECUTOR_INTERVALS, ...deps.intervals };
  const limit = config.activeTasksLimit ?? 0;
  const tasksDir = join(config.dataDir, 'tasks');
  const watchers = new LogWatchers();
  const health = createServiceHealth();
  const tasks = new Map<string, RunningTask>();
  /** Tasks this process started, so a late push of one never runs it twice. */
  const started = new Set<string>();
  const sending = new Map<string, Promise<void>>();
  /** Executions not over yet (a task leaves `tasks` once its end is reported, its pod may still be removed). */
  const executions = new Set<Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let client: RunserviceClient | undefined = deps.client;
  let driver: Driver | undefined;
  let app: FastifyInstance | undefined;
  let id: string | undefined;
  let listenURL: string | undefined;
  let dead = false;
  let maxActive = 0;
  const active = () => [...tasks.values()].filter((t) => !t.finished);

  const rs = () => client!;

  async function readId(): Promise<string> {
    const file = join(config.dataDir, 'id');
    try {
      const v = (await readFile(file, 'utf8')).trim();
      if (ID_RE.test(v)) return v;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
    const v = randomUUID();
    await writeFile(file, `${v}\n`, { mode: 0o600 });
    return v;
  }

  /** Sends the task's current status; sends of one task go out in order. */
  function send(rt: RunningTask): void {
    if (dead) return;
    const status: ExecutorTaskStatus = structuredClone(rt.status);
    const prev = sending.get(rt.id) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (dead) return;
      try {
        await rs().updateExecutorTaskStatus(id!, { id: rt.id, status });
        if (rt.finished && isFinal(status.phase) && tasks.get(rt.id) === rt) {
          // the end is known to the runservice: the task is no longer ours to report
          tasks.delete(rt.id);
        }
      } catch (err) {
        log.debug({ err, taskId: rt.id }, 'sending task status failed (re-sent by the loop)');
      }
    });
    sending.set(rt.id, next);
    void next.finally(() => {
      if (sending.get(rt.id) === next) sending.delete(rt.id);
    });
  }

  async function sendStatus(taskId: string, status: ExecutorTaskStatus): Promise<void> {
    if (dead) return;
    await rs()
      .updateExecutorTaskStatus(id!, { id: taskId, status })
      .catch((err: unknown) => log.debug({ err, taskId }, 'sending task status failed'));
  }

  async function hasTaskDir(taskId: string): Promise<boolean> {
    return access(taskPaths(tasksDir, taskId).dir).then(
      () => true,
      () => false,
    );
  }

  /** Agola's taskUpdater (reference §8.1), with an exact active tasks limit. */
  async function taskUpdater(et: ExecutorTaskWithData): Promise<void> {
    if (et.spec.executor_id !== id || dead) return;
    const rt = tasks.get(et.id);
    if (rt) {
      if (!rt.finished && et.spec.stop && !rt.stopRequested) {
        log.info({ taskId: et.id }, 'stopping task');
        rt.stop();
      }
      return;
    }
    const phase = et.status.phase;
    if (isFinal(phase)) return;
    if (et.spec.stop && phase === 'notstarted') {
      await sendStatus(et.id, {
        ...et.status,
        phase: 'cancelled',
        end_time: new Date().toISOString(),
      });
      return;
    }
    // Running per the runservice but not here (a restart), or started here before: failed.
    if (phase === 'running' || started.has(et.id) || (await hasTaskDir(et.id))) {
      if (tasks.has(et.id)) return; // started meanwhile by another push of the same task
      const t = new Date().toISOString();
      const fail = (s: ExecutorTaskStatus['setup_step']) =>
        s.phase === 'running' ? { ...s, phase: 'failed' as const, end_time: t } : s;
      await sendStatus(et.id, {
        ...et.status,
        phase: 'failed',
        fail_error: 'the executor restarted while the task was running',
        setup_step: fail(et.status.setup_step),
        steps: (et.status.steps ?? []).map(fail),
        end_time: t,
      });
      return;
    }
    if (et.spec.stop) return;
    // exact limit: the check and the insertion are synchronous
    if (tasks.has(et.id) || (limit > 0 && active().length >= limit)) return;
    const task = new RunningTask(et);
    tasks.set(et.id, task);
    started.add(et.id);
    maxActive = Math.max(maxActive, active().length);
    log.info({ taskId: et.id, runId: et.spec.run_id }, 'starting task');
    const finished = (t: RunningTask) => {
      if (t.finished) return;
      t.finished = true;
      watchers.notify(taskPaths(tasksDir, t.id).setupLog);
      for (let i = 0; i < t.status.steps.length; i++) {
        watchers.notify(taskPaths(tasksDir, t.id).stepLog(i));
      }
      send(t);
    };
    task.done = executeTask(task, {
      driver: driver!,
      client: rs(),
      store: (taskId) =>
        createRunserviceArtifactStore(rs(), () =>
          join(taskPaths(tasksDir, taskId).tmp, randomUUID()),
        ),
      tasksDir,
      watchers,
      allowPrivileged: config.allowPrivilegedContainers ?? false,
      logger: log,
      send,
      finished,
    })
      .catch((err: unknown) => {
        log.error({ err, taskId: et.id }, 'task execution failed');
        if (!task.finished) {
          task.status.phase = 'failed';
          task.status.fail_error = 'executor error';
          task.status.end_time = new Date().toISOString();
        }
      })
      .finally(() => finished(task));
    const done = task.done;
    executions.add(done);
    void done.finally(() => executions.delete(done));
  }

  function queueTask(et: ExecutorTaskWithData): void {
    void taskUpdater(et).catch((err: unknown) =>
      log.warn({ err, taskId: et.id }, 'handling a task failed'),
    );
  }

  async function heartbeat(): Promise<void> {
    const d = driver!;
    const executor: Executor = {
      id: id!,
      listenURL: listenURL!,
      archs: await d.archs(),
      labels: { ...config.labels },
      allow_privileged_containers: config.allowPrivilegedContainers ?? false,
      active_tasks_limit: limit,
      active_tasks: active().length,
      dynamic: false,
      executor_group: await d.executorGroup(),
      siblings_executors: await d.getExecutors(),
      last_status_update_time: new Date().toISOString(),
    };
    await rs().executorHeartbeat(executor);
  }

  async function pollTasks(): Promise<void> {
    const ets = await rs().getExecutorTasks(id!);
    const known = new Set(ets.map((et) => et.id));
    for (const et of ets) queueTask(et);
    for (const rt of tasks.values()) {
      // running tasks the runservice no longer has are cancelled
      if (!known.has(rt.id) && !rt.finished && rt.status.phase !== 'notstarted') {
        log.info({ taskId: rt.id }, 'task no longer assigned: stopping it');
        rt.stop();
      }
    }
  }

  async function resendStatuses(): Promise<void> {
    for (const rt of tasks.values()) if (!sending.has(rt.id)) send(rt);
  }

  async function cleanPods(): Promise<void> {
    const pods = await driver!.getPods();
    for (const pod of pods) {
      const rt = tasks.get(pod.taskId);
      if (rt && !rt.finished) continue;
      if (rt?.pod === pod || (rt && rt.pod?.id === pod.id)) continue;
      log.info({ podId: pod.id, taskId: pod.taskId }, 'removing a pod without a running task');
      await pod.remove().catch((err: unknown) => log.warn({ err }, 'removing pod'));
    }
  }

  async function cleanTaskData(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(tasksDir);
    } catch {
      return;
    }
    for (const taskId of names) {
      if (tasks.has(taskId)) continue;
      try {
        await rs().getExecutorTask(id!, taskId);
      } catch (err) {
        if (err instanceof RemoteError && err.status === 404) {
          await rm(join(tasksDir, taskId), { recursive: true, force: true });
          watchers.forget(`${join(tasksDir, taskId)}/`);
          started.delete(taskId);
        }
      }
    }
  }

  const loop = (name: string, ms: number, fn: () => Promise<void>) => {
    let busy = false;
    const tick = async () => {
      if (busy || dead) return;
      busy = true;
      try {
        await fn();
        health.report(name, undefined);
      } catch (err) {
        log.warn({ err }, `executor ${name} failed`);
        health.report(name, healthProblemOf(err, name));
      } finally {
        busy = false;
      }
    };
    timers.push(setInterval(() => void tick(), ms));
    return tick;
  };

  function logFileOf(q: Record<string, string | undefined>) {
    const taskId = q['taskid'] ?? '';
    if (!ID_RE.test(taskId)) throw badRequest('taskid is missing or invalid');
    const setup = q['setup'] !== undefined;
    const stepRaw = q['step'];
    if (setup === (stepRaw !== undefined)) throw badRequest('one of setup or step is required');
    let step: number | undefined;
    if (!setup) {
      if (!/^\d{1,6}$/.test(stepRaw ?? '')) throw badRequest('step must be a number');
      step = Number(stepRaw);
    }
    const p = taskPaths(tasksDir, taskId);
    return { taskId, step, path: step === undefined ? p.setupLog : p.stepLog(step) };
  }

  async function sendFile(reply: FastifyReply, path: string, what: string) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw notExist(`${what} not found`);
    const { createReadStream } = await import('node:fs');
    return reply
      .header('content-length', String(st.size))
      .type('application/octet-stream')
      .send(createReadStream(path));
  }

  async function buildApp(): Promise<FastifyInstance> {
    const server = createServiceServer({
      logger,
      name: 'executor',
      bodyLimit: 16 * 1024 * 1024,
      requestLogging: false,
    });
    server.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, health.snapshot()));
    await server.register(
      async (api) => {
        api.post('/executor', async (req, reply) => {
          const et = req.body as ExecutorTaskWithData | undefined;
          if (!et || typeof et !== 'object' || typeof et.id !== 'string' || !ID_RE.test(et.id)) {
            throw badRequest('the body must be an executor task');
          }
          if (!et.spec || !et.status || !Array.isArray(et.status.steps)) {
            throw badRequest('the executor task has no spec or status');
          }
          queueTask(et);
          return reply.code(200).send();
        });
        api.get('/executor/logs', async (req, reply) => {
          const q = req.query as Record<string, string | undefined>;
          const { taskId, step, path } = logFileOf(q);
          if (q['follow'] === undefined) return sendFile(reply, path, 'log');
          const st = await stat(path).catch(() => undefined);
          if (!st?.isFile()) throw notExist('log not found');
          const closed = new AbortController();
          req.raw.on('close', () => closed.abort());
          reply.raw.on('close', () => closed.abort());
          const following = () => {
            const rt = tasks.get(taskId);
            return rt !== undefined && !rt.logFinished(step);
          };
          const body = Readable.from(
            followFile(path, watchers, following, {
              signal: closed.signal,
              pollMs: intervals.followPollMs,
            }),
          );
          return reply.type('application/octet-stream').send(body);
        });
        api.get('/executor/archives', async (req, reply) => {
          const q = req.query as Record<string, string | undefined>;
          const taskId = q['taskid'] ?? '';
          if (!ID_RE.test(taskId)) throw badRequest('taskid is missing or invalid');
          if (!/^\d{1,6}$/.test(q['step'] ?? '')) throw badRequest('step must be a number');
          return sendFile(reply, taskPaths(tasksDir, taskId).archive(Number(q['step'])), 'archive');
        });
      },
      { prefix: API_PREFIX },
    );
    return server;
  }

  return {
    get id() {
      return id;
    },
    get listenURL() {
      return listenURL;
    },
    get activeTasks() {
      return active().map((t) => t.id);
    },
    get maxActiveTasks() {
      return maxActive;
    },
    get app() {
      return app;
    },
    get driver() {
      return driver;
    },
    async start() {
      if (app) return;
      dead = false;
      if (!config.runserviceURL && !deps.client) {
        throw newError('executor config: runserviceURL is missing', {
          code: ExecutorErrorCodes.InvalidConfig,
        });
      }
      client ??= createRunserviceClient({ baseUrl: apiBase(config.runserviceURL) });
      await mkdir(tasksDir, { recursive: true });
      id = await readId();
      const driverLogger = logger.child({ component: 'driver' });
      switch (config.driver.type) {
        case 'local':
          driver = createLocalDriver({
            type: 'local',
            executorId: id,
            podsDir: config.driver.podsDir ?? join(config.dataDir, 'pods'),
            ...(config.driver.path ? { path: config.driver.path } : {}),
            logger: driverLogger,
          });
          break;
        case 'docker':
          driver = createDockerDriver({
            type: 'docker',
            executorId: id,
            allowPrivileged: config.allowPrivilegedContainers ?? false,
            ...(config.driver.socketPath ? { socketPath: config.driver.socketPath } : {}),
            ...(config.driver.networkMode ? { networkMode: config.driver.networkMode } : {}),
            logger: driverLogger,
          });
          break;
        default:
          throw newError(
            `executor config: unknown driver type ${JSON.stringify((config.driver as { type: unknown }).type)}`,
            { code: ExecutorErrorCodes.InvalidConfig },
          );
      }
      await driver.setup();
      const server = await buildApp();
      await server.listen(config.web.listen);
      const bound = server.server.address();
      const port = typeof bound === 'object' && bound ? bound.port : config.web.listen.port;
      app = server;
      listenURL = config.listenURL ?? `http://${hostOf(config.web.listen.host)}:${port}`;
      // first heartbeat and poll at once, then the loops
      const hb = loop('heartbeat', intervals.heartbeatMs, heartbeat);
      const poll = loop('tasks', intervals.tasksMs, pollTasks);
      loop('status', intervals.statusMs, resendStatuses);
      loop('pods-cleaner', intervals.podsCleanerMs, cleanPods);
      loop('data-cleaner', intervals.dataCleanerMs, cleanTaskData);
      await hb();
      await poll();
      log.info({ executorId: id, listenURL }, 'executor started');
    },
    async stop(options = {}) {
      if (!app) return;
      for (const t of timers.splice(0)) clearInterval(t);
      if (options.abandon) {
        dead = true;
      } else {
        for (const rt of tasks.values()) if (!rt.finished) rt.stop();
        await Promise.all([...executions]);
        await Promise.all([...sending.values()]);
        dead = true;
      }
      await app.close();
      app = undefined;
      await driver?.close();
    },
  };
}

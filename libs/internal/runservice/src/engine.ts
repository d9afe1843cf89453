import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { is, wrap } from '@agola-ts/errors';
import { EtcdMutex, EtcdSession, type EtcdClient } from '@agola-ts/etcd';
import { isNotExist, type ObjectStorage } from '@agola-ts/ost';
import type { ServiceLogger } from '@agola-ts/service-kit';
import {
  isExecutorTaskPhaseFinished,
  isRunPhaseFinished,
  isRunTaskStatusFinished,
  type Executor,
  type ExecutorTask,
  type Run,
  type RunConfig,
  type RunEvent,
  type RunTask,
} from '@agola-ts/types';
import { RunserviceErrorCodes } from './codes.js';
import { EtcdStore, type Revisioned } from './etcd-store.js';
import { KeyedQueue } from './keyed-queue.js';
import { etcdKeys, ostKeys } from './keys.js';
import { advanceRun, advanceRunTasks, getTasksToRun, settleRunTasks } from './logic/advance.js';
import { chooseExecutor } from './logic/executors.js';
import {
  genExecutorTask,
  genExecutorTaskSpecData,
  updateRunTaskStatus,
} from './logic/executor-task.js';
import { queries } from './readdb.js';
import type { Store } from './store.js';
import { executorUrl } from './urls.js';

/** Periods of the safety-net loops (milliseconds), Agola's by default (reference §7.5). */
export interface RunserviceIntervals {
  /** @default 2000 */
  runsScheduler: number;
  /** @default 1000 */
  executorTasksCleaner: number;
  /** @default 10000 */
  runTasksUpdater: number;
  /** @default 2000 */
  fetcher: number;
  /** @default 2000 */
  archiver: number;
  /** @default 1000 */
  compactChangeGroups: number;
  /** @default 86400000 */
  cacheCleaner: number;
  /** @default 86400000 */
  workspaceCleaner: number;
  /** @default 1000 */
  ping: number;
  /** A keep-alive comment on the run event stream (`GET /runs/events`) this often. @default 15000 */
  eventsKeepAlive: number;
}

/** Agola's loop periods. */
export const DEFAULT_INTERVALS: RunserviceIntervals = {
  runsScheduler: 2000,
  executorTasksCleaner: 1000,
  runTasksUpdater: 10_000,
  fetcher: 2000,
  archiver: 2000,
  compactChangeGroups: 1000,
  cacheCleaner: 24 * 3600_000,
  workspaceCleaner: 24 * 3600_000,
  ping: 1000,
  eventsKeepAlive: 15_000,
};

/** Seven days: how long caches and workspace archives are kept by default. */
export const DEFAULT_EXPIRE_MS = 7 * 24 * 3600_000;

/** How the scheduling engine behaves. */
export interface EngineSettings {
  /**
   * Drive scheduling from events (etcd watches on runs, executor tasks and executors, status
   * POSTs). When false only the loops move runs, as Agola does.
   */
  pushDispatch: boolean;
  intervals: RunserviceIntervals;
  cacheExpireMs: number;
  workspaceExpireMs: number;
  /** Timeout of a request to an executor. */
  executorRequestTimeoutMs: number;
}

/** What the engine works on. */
export interface EngineDeps {
  etcd: EtcdClient;
  ost: ObjectStorage;
  store: Store;
  logger: ServiceLogger;
  fetch?: typeof globalThis.fetch;
}

type Ets = Revisioned<ExecutorTask>[];

/** A run from a watch event; undefined (not indexed, readers go to etcd) when unreadable. */
function parseRun(value: Buffer): Run | undefined {
  try {
    return JSON.parse(value.toString('utf8')) as Run;
  } catch {
    return undefined;
  }
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * The runservice's scheduling engine: `scheduleRun` and the loops of reference §7.5, plus the
 * push dispatch that runs `scheduleRun` as soon as an event concerns a run.
 */
export class Engine {
  readonly estore: EtcdStore;
  private readonly runQueue: KeyedQueue;
  private readonly fetchQueue: KeyedQueue;
  private readonly rcCache = new Map<string, RunConfig>();
  private session: EtcdSession | undefined;
  private readonly doFetch: typeof globalThis.fetch;
  private stopSignal: AbortSignal = new AbortController().signal;
  private readonly tasks: Promise<void>[] = [];
  /** Count of executor task POSTs sent, per task id (for tests and the bench). */
  readonly sent = new Map<string, number>();

  constructor(
    readonly deps: EngineDeps,
    readonly settings: EngineSettings,
  ) {
    this.estore = new EtcdStore(deps.etcd);
    this.doFetch = deps.fetch ?? globalThis.fetch;
    this.runQueue = new KeyedQueue(
      (id) => this.scheduleRunNow(id),
      (id, err) => this.onJobError('scheduling run', id, err),
    );
    this.fetchQueue = new KeyedQueue(
      (key) => this.fetchTask(key),
      (key, err) => this.onJobError('fetching task', key, err),
    );
  }

  /** Aborted when the engine stops. */
  get signal(): AbortSignal {
    return this.stopSignal;
  }

  private get log(): ServiceLogger {
    return this.deps.logger;
  }

  private onJobError(what: string, key: string, err: unknown): void {
    if (this.signal.aborted) return;
    if (is(err, RunserviceErrorCodes.ConcurrentUpdate)) {
      // another pass (or instance) changed the run meanwhile: go again on fresh data
      this.log.debug({ key }, `${what}: concurrent update, retrying`);
      void sleep(20).then(() => {
        if (!this.signal.aborted) void this.scheduleRun(key.split('/')[0] ?? key);
      });
      return;
    }
    this.log.warn({ err, key }, `${what} failed`);
  }

  /** Starts the loops (and the watches with push dispatch) until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.stopSignal = signal;
    // every request to an executor and every run events stream listens on it
    setMaxListeners(0, signal);
    this.session = await EtcdSession.create(this.deps.etcd, { ttlSeconds: 5 });
    const i = this.settings.intervals;
    const loop = (name: string, ms: number, fn: () => Promise<unknown>) =>
      this.tasks.push(this.loop(name, ms, fn));
    loop('runsScheduler', i.runsScheduler, () => this.runsScheduler());
    loop('executorTasksCleaner', i.executorTasksCleaner, () => this.executorTasksCleaner());
    loop('runTasksUpdater', i.runTasksUpdater, () =>
      this.locked(etcdKeys.locks.taskUpdater, () => this.runsScheduler()),
    );
    loop('fetcher', i.fetcher, () => this.fetcher());
    loop('archiver', i.archiver, () => this.finishedRunsArchiver());
    loop('compactChangeGroups', i.compactChangeGroups, () =>
      this.locked(etcdKeys.locks.compactChangeGroups, () => this.estore.compactChangeGroups()),
    );
    loop('cacheCleaner', i.cacheCleaner, () =>
      this.locked(etcdKeys.locks.cacheCleaner, () =>
        this.cleanOld(ostKeys.cachesDir, this.settings.cacheExpireMs),
      ),
    );
    loop('workspaceCleaner', i.workspaceCleaner, () =>
      this.locked(etcdKeys.locks.workspaceCleaner, () =>
        this.cleanOld(ostKeys.archivesDir, this.settings.workspaceExpireMs),
      ),
    );
    loop('ping', i.ping, () => this.deps.etcd.put(etcdKeys.ping, ''));
    // the watch keeps the active runs index (always) and pushes dispatch (when enabled)
    this.tasks.push(this.watchLoop());
  }

  /** Waits for the loops and jobs to end (after the start signal aborted). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.tasks);
    await this.runQueue.idle();
    await this.fetchQueue.idle();
    await this.session?.close().catch(() => undefined);
  }

  private async loop(name: string, ms: number, fn: () => Promise<unknown>): Promise<void> {
    while (!this.signal.aborted) {
      try {
        await fn();
      } catch (err) {
        if (!this.signal.aborted) this.log.warn({ err, loop: name }, 'runservice loop failed');
      }
      await sleep(ms, undefined, { signal: this.signal }).catch(() => undefined);
    }
  }

  /** Runs `fn` only if this instance takes the lock at `key` now. */
  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (!this.session || this.session.lost) {
      await this.session?.close().catch(() => undefined);
      this.session = await EtcdSession.create(this.deps.etcd, { ttlSeconds: 5 });
    }
    const mutex = new EtcdMutex(this.deps.etcd, this.session, key);
    if (!(await mutex.tryLock())) return undefined;
    try {
      return await fn();
    } finally {
      await mutex.unlock().catch(() => undefined);
    }
  }

  /**
   * Watches the active runs (from a full list) to keep {@link EtcdStore.index}; with push
   * dispatch also executor tasks and executors, and each change schedules the run it concerns.
   */
  private async watchLoop(): Promise<void> {
    const push = this.settings.pushDispatch;
    const index = this.estore.index;
    while (!this.signal.aborted) {
      try {
        const { runs: active, revision: rev } = await this.estore.listRuns();
        index.reset(active, rev);
        // a change between the loops' last pass and the watch start: schedule everything once
        if (push) void this.runsScheduler().catch(() => undefined);
        for await (const res of this.deps.etcd.watch(push ? 'scheduler/' : etcdKeys.runsDir, {
          startRevision: rev + 1n,
          signal: this.signal,
          coalesce: true,
        })) {
          const runs = new Set<string>();
          let newExecutor = false;
          for (const ev of res.events) {
            const key = ev.kv.key;
            if (key.startsWith(etcdKeys.runsDir)) {
              const id = key.slice(etcdKeys.runsDir.length);
              index.apply(
                id,
                ev.type === 'put' ? parseRun(ev.kv.value) : undefined,
                ev.kv.modRevision,
              );
              if (ev.type === 'put') runs.add(id);
            } else if (key.startsWith(etcdKeys.tasksDir) && ev.type === 'put') {
              try {
                const et = JSON.parse(ev.kv.value.toString('utf8')) as ExecutorTask;
                runs.add(et.spec.run_id);
              } catch {
                // not ours to judge here: the cleaner logs bad entries
              }
            } else if (key.startsWith(etcdKeys.executorsDir)) {
              if (ev.type === 'delete' || ev.kv.createRevision === ev.kv.modRevision) {
                newExecutor = true;
              }
            }
          }
          index.advance(res.revision);
          if (!push) continue;
          for (const id of runs) void this.scheduleRun(id);
          if (newExecutor) {
            void this.runsScheduler().catch(() => undefined);
            void this.executorTasksCleaner().catch(() => undefined);
          }
        }
      } catch (err) {
        index.unsync();
        if (this.signal.aborted) return;
        this.log.warn({ err }, 'runservice watch failed, watching again');
        await sleep(200, undefined, { signal: this.signal }).catch(() => undefined);
      }
    }
  }

  /** Requests a `scheduleRun` pass of a run (coalesced with one already pending). */
  scheduleRun(runId: string): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    return this.runQueue.request(runId);
  }

  /** The run config of a run: readdb, else the datamanager (a lagging readdb). Cached. */
  async runConfig(runId: string): Promise<RunConfig | undefined> {
    const cached = this.rcCache.get(runId);
    if (cached) return cached;
    let rc = await this.deps.store.read((tx) => queries.runConfig(tx, runId));
    if (!rc) {
      try {
        rc = JSON.parse(
          (await this.deps.store.dm.read('runconfig', runId)).toString('utf8'),
        ) as RunConfig;
      } catch (err) {
        if (is(err, 'ERR_DATAMANAGER_NOT_EXIST')) return undefined;
        throw err;
      }
    }
    if (this.rcCache.size > 1000) this.rcCache.clear();
    this.rcCache.set(runId, rc);
    return rc;
  }

  /**
   * One pass over a run (reference §7.5 `scheduleRun`), preceded by the executor task status
   * replay of `handleExecutorTaskUpdate` for its tasks.
   */
  private async scheduleRunNow(runId: string): Promise<void> {
    const cur = await this.estore.getRun(runId);
    if (!cur) return;
    // a queued run waits for the scheduler's start: nothing of it can move before (as Agola's
    // pass over it, which changes nothing)
    if (cur.value.phase === 'queued') return;
    const rc = await this.runConfig(runId);
    if (!rc) {
      this.log.warn({ runId }, 'run config not found');
      return;
    }
    const allEts = await this.estore.listTasks();
    const ets = allEts.filter((et) => et.value.spec.run_id === runId);
    let run = clone(cur.value);
    let rev = cur.revision;
    // the run as etcd holds it at `rev`: an unchanged run is not written (saves the re-read
    // atomicPutRun does before its no-op)
    let stored = JSON.stringify(cur.value);
    const put = async (next: Run, event?: RunEvent) => {
      const text = JSON.stringify(next);
      if (!event && text === stored) return;
      rev = await this.estore.atomicPutRun(next, rev, { event });
      stored = text;
    };

    // apply the executors' statuses (the executorTaskUpdateHandler and runTasksUpdater)
    for (const et of ets) {
      if (!Object.hasOwn(run.tasks, et.value.id)) continue;
      if (!updateRunTaskStatus(run, et.value)) {
        this.log.debug({ runId, taskId: et.value.id }, 'executor task phase not applicable');
      }
    }
    await put(run);

    // fetch what finished tasks produced: a dependent task waits for its parents' archives
    for (const rt of Object.values(run.tasks)) {
      if (isRunTaskStatusFinished(rt.status) && !fullyFetched(rt)) {
        if (ets.some((et) => et.value.id === rt.id))
          void this.fetchQueue.request(`${runId}/${rt.id}`);
      }
    }

    const advanced = advanceRun(run, {
      runConfig: rc,
      scheduledExecutorTasks: ets.map((e) => e.value),
      now: new Date(),
    });
    run = advanced.run;
    const event = advanced.events
      ? await this.estore.newRunEvent(run.id, run.phase, run.result)
      : undefined;
    await put(run, event);

    if (run.stop) {
      for (const et of ets) {
        if (et.value.spec.stop) continue;
        const next = clone(et.value);
        next.spec.stop = true;
        const r = await this.estore.atomicPutTask(next, et.revision);
        if (r !== undefined) await this.sendExecutorTask(next, run, rc);
      }
    }

    if (run.phase === 'running') {
      // push dispatch settles a chain of skips in one pass; the loops move one hop per pass,
      // as Agola
      const advance = this.settings.pushDispatch ? settleRunTasks : advanceRunTasks;
      run = advance(
        run,
        rc,
        ets.map((e) => e.value),
      );
      await put(run);
      const toRun = getTasksToRun(run, rc);
      if (toRun.length > 0) await this.submitRunTasks(run, rc, toRun, allEts);
    }
  }

  private async submitRunTasks(run: Run, rc: RunConfig, tasks: RunTask[], all: Ets): Promise<void> {
    const executors = await this.estore.listExecutors();
    const counts = new Map<string, number>();
    const existing = new Set<string>();
    for (const et of all) {
      existing.add(et.value.id);
      counts.set(et.value.spec.executor_id, (counts.get(et.value.spec.executor_id) ?? 0) + 1);
    }
    for (const rt of tasks) {
      if (existing.has(rt.id)) continue;
      const rct = rc.tasks[rt.id];
      if (!rct) continue;
      const executor = chooseExecutor(executors, {
        runConfigTask: rct,
        executorTaskCounts: counts,
        now: new Date(),
      });
      if (!executor) {
        this.log.warn({ runId: run.id, taskId: rt.id }, 'cannot choose an executor');
        return;
      }
      const et = genExecutorTask(run, rt, rc, executor);
      const created = await this.estore.atomicPutTask(et, 0n);
      if (created === undefined) continue;
      counts.set(executor.id, (counts.get(executor.id) ?? 0) + 1);
      await this.sendExecutorTask(et, run, rc, executor);
    }
  }

  /** POSTs a task (with regenerated spec data) to its executor; a failure is only logged. */
  async sendExecutorTask(
    et: ExecutorTask,
    run: Run,
    rc: RunConfig,
    executor?: Executor,
  ): Promise<void> {
    const ex = executor ?? (await this.estore.getExecutor(et.spec.executor_id));
    if (!ex) {
      this.log.warn({ executorId: et.spec.executor_id }, 'executor does not exist');
      return;
    }
    const rt = run.tasks[et.id];
    if (!rt) return;
    const body = this.withSpecData(et, run, rt, rc);
    this.sent.set(et.id, (this.sent.get(et.id) ?? 0) + 1);
    try {
      const res = await this.doFetch(executorUrl(ex.listenURL, '/api/v1alpha/executor'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([
          this.signal,
          AbortSignal.timeout(this.settings.executorRequestTimeoutMs),
        ]),
      });
      await res.body?.cancel();
      if (res.status !== 200) {
        this.log.warn({ status: res.status, taskId: et.id }, 'executor refused the task');
      }
    } catch (err) {
      // executors also poll their tasks: a lost POST only delays the task
      this.log.warn({ err: wrap(err, 'sending executor task'), taskId: et.id }, 'send failed');
    }
  }

  /** An executor task with its spec data regenerated from the run and run config. */
  withSpecData(et: ExecutorTask, run: Run, rt: RunTask, rc: RunConfig): ExecutorTask {
    const data = genExecutorTaskSpecData(run, rt, rc);
    return {
      ...et,
      spec: {
        ...data,
        executor_id: et.spec.executor_id,
        run_id: et.spec.run_id,
        stop: et.spec.stop ?? false,
      },
    };
  }

  /** Every active run through `scheduleRun` (the runsScheduler loop). */
  async runsScheduler(): Promise<void> {
    const { runs } = await this.estore.listRuns();
    await Promise.all(runs.map((r) => this.scheduleRun(r.value.id)));
  }

  /** The executorTasksCleaner loop (reference §7.5). */
  async executorTasksCleaner(): Promise<void> {
    const ets = await this.estore.listTasks();
    const executors = new Set((await this.estore.listExecutors()).map((e) => e.id));
    for (const { value: et, revision } of ets) {
      try {
        if (isExecutorTaskPhaseFinished(et.status.phase)) {
          const r = await this.estore.getRun(et.spec.run_id);
          if (!r) {
            await this.estore.deleteTask(et.id);
            continue;
          }
          if (isRunPhaseFinished(r.value.phase) && !et.spec.stop) {
            const next = clone(et);
            next.spec.stop = true;
            if ((await this.estore.atomicPutTask(next, revision)) !== undefined) {
              const rc = await this.runConfig(r.value.id);
              if (rc) await this.sendExecutorTask(next, r.value, rc);
            }
          }
        } else if (!executors.has(et.spec.executor_id)) {
          this.log.warn(
            { executorId: et.spec.executor_id, taskId: et.id },
            'executor deleted: marking its task failed',
          );
          const next = clone(et);
          const now = new Date().toISOString();
          next.status.fail_error = 'executor deleted';
          next.status.phase = 'failed';
          next.status.end_time = now;
          for (const s of next.status.steps ?? []) {
            if (s.phase === 'running') {
              s.phase = 'failed';
              s.end_time = now;
            }
          }
          await this.estore.atomicPutTask(next, revision);
        }
      } catch (err) {
        this.log.warn({ err, taskId: et.id }, 'executor task cleaner failed');
      }
    }
  }

  /** The fetcher loop: every finished task that still has something to fetch. */
  async fetcher(): Promise<void> {
    const { runs } = await this.estore.listRuns();
    const jobs: Promise<void>[] = [];
    for (const { value: r } of runs) {
      for (const rt of Object.values(r.tasks)) {
        if (isRunTaskStatusFinished(rt.status))
          jobs.push(this.fetchQueue.request(`${r.id}/${rt.id}`));
      }
    }
    await Promise.all(jobs);
  }

  /** Fetches a finished task's logs and archives into the object storage (one instance at a time). */
  private async fetchTask(key: string): Promise<void> {
    const [runId, taskId] = key.split('/') as [string, string];
    await this.locked(etcdKeys.locks.taskFetcher(taskId), async () => {
      const cur = await this.estore.getRun(runId);
      const rt = cur?.value.tasks[taskId];
      if (!cur || !rt || !isRunTaskStatusFinished(rt.status)) return;
      await this.writeMarker(ostKeys.logsRun(taskId, runId));
      await this.writeMarker(ostKeys.archivesRun(taskId, runId));
      const et = await this.estore.getTask(taskId);
      const executor = et ? await this.estore.getExecutor(et.value.spec.executor_id) : undefined;
      // no executor task or executor left: nothing can be fetched any more (as Agola)
      const get = async (path: string, target: string) =>
        !executor || (await this.fetchObject(executor, path, target));
      const q = `taskid=${encodeURIComponent(taskId)}`;
      const setupDone =
        rt.setup_step.log_phase === 'finished' ||
        (await get(`logs?${q}&setup`, ostKeys.setupLog(taskId)));
      const stepsDone: number[] = [];
      for (const [i, s] of rt.steps.entries()) {
        if (s.log_phase === 'finished') continue;
        if (await get(`logs?${q}&step=${i}`, ostKeys.stepLog(taskId, i))) stepsDone.push(i);
      }
      const archivesDone: number[] = [];
      for (const [i, step] of rt.workspace_archives.entries()) {
        if (rt.workspace_archives_phase[i] === 'finished') continue;
        if (await get(`archives?${q}&step=${step}`, ostKeys.archive(taskId, step))) {
          archivesDone.push(i);
        }
      }
      // mark the phases (re-reading the run on a concurrent change)
      let fetched = false;
      for (let attempt = 0; attempt < 10 && !this.signal.aborted; attempt++) {
        const now = await this.estore.getRun(runId);
        if (!now) return;
        const run = clone(now.value);
        const task = run.tasks[taskId];
        if (!task) return;
        if (setupDone) task.setup_step.log_phase = 'finished';
        for (const i of stepsDone) if (task.steps[i]) task.steps[i].log_phase = 'finished';
        for (const i of archivesDone) task.workspace_archives_phase[i] = 'finished';
        try {
          await this.estore.atomicPutRun(run, now.revision);
          fetched = fullyFetched(task);
          break;
        } catch (err) {
          if (!is(err, RunserviceErrorCodes.ConcurrentUpdate)) throw err;
        }
      }
      if (fetched && et) {
        await this.estore.deleteTask(taskId);
      }
    });
    if (this.settings.pushDispatch) void this.scheduleRun(runId);
  }

  private async writeMarker(key: string): Promise<void> {
    try {
      await this.deps.ost.stat(key);
    } catch (err) {
      if (!isNotExist(err)) throw err;
      await this.deps.ost.write(key, '');
    }
  }

  /**
   * Copies `<executor>/api/v1alpha/executor/<path>` to `key` unless it is there. Returns true
   * when the object is in the storage or the executor has none (404: nothing to fetch).
   */
  private async fetchObject(executor: Executor, path: string, key: string): Promise<boolean> {
    try {
      await this.deps.ost.stat(key);
      return true;
    } catch (err) {
      if (!isNotExist(err)) throw err;
    }
    const url = executorUrl(executor.listenURL, `/api/v1alpha/executor/${path}`);
    let res: Response;
    try {
      res = await this.doFetch(url, {
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(5 * 60_000)]),
      });
    } catch (err) {
      this.log.warn({ err: wrap(err, 'fetching from executor'), key }, 'fetch failed');
      return false;
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return true;
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      this.log.warn({ status: res.status, key }, 'executor answered an error to a fetch');
      return false;
    }
    const len = Number(res.headers.get('content-length') ?? NaN);
    await this.deps.ost.write(
      key,
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
      Number.isFinite(len) ? { size: len } : {},
    );
    return true;
  }

  /** The archiver loop: finished, fully fetched runs → archived → datamanager, out of etcd. */
  async finishedRunsArchiver(): Promise<void> {
    const { runs } = await this.estore.listRuns();
    for (const { value: r, revision } of runs) {
      if (r.archived || !isRunPhaseFinished(r.phase)) continue;
      if (!Object.values(r.tasks).every(fullyFetched)) continue;
      const next = clone(r);
      next.archived = true;
      await this.estore.atomicPutRun(next, revision).catch((err: unknown) => {
        if (!is(err, RunserviceErrorCodes.ConcurrentUpdate)) throw err;
      });
    }
    const again = await this.estore.listRuns();
    for (const { value: r, revision } of again.runs) {
      if (!r.archived) continue;
      await this.deps.store.write([
        { actionType: 'put', dataType: 'run', id: r.id, data: Buffer.from(JSON.stringify(r)) },
      ]);
      await this.estore.deleteRun(r.id, revision);
    }
  }

  /** Deletes objects under `prefix` older than `maxAgeMs`. */
  private async cleanOld(prefix: string, maxAgeMs: number): Promise<number> {
    const limit = Date.now() - maxAgeMs;
    let deleted = 0;
    for await (const o of this.deps.ost.list(prefix, { recursive: true, signal: this.signal })) {
      if (o.lastModified.getTime() < limit) {
        await this.deps.ost.delete(o.key).catch((err: unknown) => {
          if (!isNotExist(err)) throw err;
        });
        deleted++;
      }
    }
    return deleted;
  }

  /** Runs the cache and workspace cleaners now (tests; normally every 24 h). */
  async cleanNow(): Promise<{ caches: number; workspaces: number }> {
    return {
      caches: await this.cleanOld(ostKeys.cachesDir, this.settings.cacheExpireMs),
      workspaces: await this.cleanOld(ostKeys.archivesDir, this.settings.workspaceExpireMs),
    };
  }
}

/** Whether a task's logs and workspace archives are all fetched. */
export function fullyFetched(rt: RunTask): boolean {
  return (
    rt.setup_step.log_phase === 'finished' &&
    rt.steps.every((s) => s.log_phase === 'finished') &&
    rt.workspace_archives_phase.every((p) => p === 'finished')
  );
}

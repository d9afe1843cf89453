import { createHttpCaller } from '@agola-ts/api-client';
import { AgolaError } from '@agola-ts/errors';
import type {
  Executor,
  ExecutorTask,
  ExecutorTaskWithData,
  GetRunsResponse,
  MaintenanceStatusResponse,
  Run,
  RunActionsRequest,
  RunConfig,
  RunCreateRequest,
  RunEvent,
  RunPhase,
  RunResponse,
  RunResult,
  RunTaskActionsRequest,
} from '@agola-ts/types';
import { RunserviceClientErrorCodes } from './codes.js';

/** Options of {@link createRunserviceClient}. */
export interface RunserviceClientOptions {
  /** The runservice API base URL, with the prefix: `http://127.0.0.1:4003/api/v1alpha`. */
  baseUrl: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
  /**
   * A request without an answer after this many milliseconds fails with
   * `ERR_RUNSERVICE_CLIENT_TIMEOUT`; 0 waits forever. JSON calls wait for the complete answer;
   * streams (`getLogs`, `runEvents`, `getArchive`, `getCache`, `export`) only for the response
   * headers, so a followed log is never cut; a streamed upload (`putCache`, `import`) restarts
   * the timer at each chunk sent. @default 30000
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Per-call options of the client's methods. */
export interface CallOptions {
  /** Cancels this request (or ends an iteration). */
  signal?: AbortSignal;
}

/** Filters of `GET /runs`. */
export interface GetRunsOptions {
  /** Only runs in one of these phases. */
  phase?: RunPhase[];
  /** Only runs with one of these results. */
  result?: RunResult[];
  /** Only runs under one of these groups (`/project/<id>`, `/project/<id>/branch/main`...). */
  group?: string[];
  /** Only the last run of each group. */
  lastRun?: boolean;
  /** Change groups to get a token of (`change_groups_update_tokens`). */
  changeGroups?: string[];
  /** At most this many runs (default 25, at most 40). */
  limit?: number;
  /** Ascending run ids (descending by default). */
  asc?: boolean;
  /** Only runs after (asc) or before (desc) this run id. */
  start?: string;
}

/** Filters of `GET /runs/group/{group}`. */
export interface GetGroupRunsOptions {
  phase?: RunPhase[];
  result?: RunResult[];
  changeGroups?: string[];
  limit?: number;
  asc?: boolean;
  /** Only runs after (asc) or before (desc) this run counter. */
  start?: number;
}

/** The answer of `POST /runs`. */
export interface RunCreateResponse {
  run: Run;
  run_config: RunConfig;
}

/** Which log of a run task: the setup log or a step's. */
export type LogRef = { runId: string; taskId: string } & ({ setup: true } | { step: number });

/** Options of {@link RunserviceClient.runEvents}. */
export interface RunEventsOptions extends CallOptions {
  /** Reconnect when the stream ends or fails (until `signal` aborts). @default true */
  reconnect?: boolean;
  /** Wait before reconnecting. @default 500 */
  reconnectDelayMs?: number;
  /**
   * Called each time the stream is open (the runservice answered 200): every event after
   * this point reaches the iteration, so a consumer can catch up on what happened before.
   */
  onOpen?: () => void;
  /**
   * Called on every chunk of bytes the stream delivers, keep-alive comments included: a
   * consumer can tell a silent (half-dead) connection from a quiet one.
   */
  onData?: () => void;
}

/**
 * A typed client of the runservice API: one method per route. Every error response rejects
 * with a `RemoteError` of `@agola-ts/errors` (status, kind, code, message); a request that
 * gets no answer (refused, reset, timeout, cancelled), or a stream that breaks, rejects with
 * an `AgolaError` coded with one of {@link RunserviceClientErrorCodes}, naming the method,
 * route and host, with the network error as its cause.
 */
export interface RunserviceClient {
  /** `GET /runs/{id}`: the run, its config and a token of `changeGroups`. @throws `RemoteError` 404. */
  getRun(runId: string, changeGroups?: string[], options?: CallOptions): Promise<RunResponse>;
  /** `GET /runs/group/{group}/{counter}`: a run by its group and counter. */
  getRunByGroup(group: string, counter: number, options?: CallOptions): Promise<RunResponse>;
  /** `GET /runs`: active and archived runs, newest first unless `asc`. */
  getRuns(query?: GetRunsOptions, options?: CallOptions): Promise<GetRunsResponse>;
  /** `GET /runs/group/{group}`: the runs of a group by counter. */
  getGroupRuns(
    group: string,
    query?: GetGroupRunsOptions,
    options?: CallOptions,
  ): Promise<GetRunsResponse>;
  /** `POST /runs`: creates a run, or recreates one (`run_id`, `from_start`). */
  createRun(req: RunCreateRequest, options?: CallOptions): Promise<RunCreateResponse>;
  /** `PUT /runs/{id}/actions`. */
  runAction(runId: string, req: RunActionsRequest, options?: CallOptions): Promise<void>;
  /** `changephase` → `running` (what the scheduler does for a queued run). */
  startRun(runId: string, changeGroupsToken?: string, options?: CallOptions): Promise<void>;
  /** `changephase` → `cancelled` (only a queued run). */
  cancelRun(runId: string, changeGroupsToken?: string, options?: CallOptions): Promise<void>;
  /** `stop` (only a running run). */
  stopRun(runId: string, changeGroupsToken?: string, options?: CallOptions): Promise<void>;
  /** `PUT /runs/{id}/tasks/{taskid}/actions`. */
  runTaskAction(
    runId: string,
    taskId: string,
    req: RunTaskActionsRequest,
    options?: CallOptions,
  ): Promise<void>;
  /** `approve` a task that waits for approval. */
  approveRunTask(
    runId: string,
    taskId: string,
    changeGroupsToken?: string,
    options?: CallOptions,
  ): Promise<void>;
  /** `setannotations` of a task (replaces them). */
  setRunTaskAnnotations(
    runId: string,
    taskId: string,
    annotations: Record<string, string>,
    changeGroupsToken?: string,
    options?: CallOptions,
  ): Promise<void>;
  /** `GET /changegroups`: a token of the given change groups. */
  getChangeGroupsUpdateToken(changeGroups: string[], options?: CallOptions): Promise<string>;
  /**
   * `GET /runs/events` (Server-Sent Events) as an async iterable of run events, from now on.
   * It reconnects when the stream drops (events meanwhile are missed, as with Agola's).
   */
  runEvents(options?: RunEventsOptions): AsyncIterable<RunEvent>;
  /** `GET /logs`: a log as a byte stream; with `follow`, until the step ends. */
  getLogs(
    ref: LogRef,
    opts?: { follow?: boolean },
    options?: CallOptions,
  ): Promise<AsyncIterable<Uint8Array>>;
  /** `DELETE /logs` (only a log that is fetched into the object storage). */
  deleteLogs(ref: LogRef, options?: CallOptions): Promise<void>;
  /** `POST /executor/{id}`: an executor heartbeat. */
  executorHeartbeat(executor: Executor, options?: CallOptions): Promise<void>;
  /** `DELETE /executor/{id}`. */
  deleteExecutor(executorId: string, options?: CallOptions): Promise<void>;
  /** `GET /executor/{id}/tasks`: the executor's tasks with their spec data. */
  getExecutorTasks(executorId: string, options?: CallOptions): Promise<ExecutorTaskWithData[]>;
  /** `GET /executor/{id}/tasks/{taskid}`. @throws `RemoteError` 404. */
  getExecutorTask(
    executorId: string,
    taskId: string,
    options?: CallOptions,
  ): Promise<ExecutorTaskWithData>;
  /** `POST /executor/{id}/tasks/{taskid}`: the executor task's new status. */
  updateExecutorTaskStatus(
    executorId: string,
    et: Pick<ExecutorTask, 'id' | 'status'> & Partial<ExecutorTask>,
    options?: CallOptions,
  ): Promise<void>;
  /** `GET /executor/archives`: a workspace archive. @throws `RemoteError` 404. */
  getArchive(taskId: string, step: number, options?: CallOptions): Promise<Uint8Array>;
  /** `HEAD /executor/caches/{key}[?prefix]`: whether a cache exists. */
  hasCache(key: string, prefix?: boolean, options?: CallOptions): Promise<boolean>;
  /** `GET /executor/caches/{key}[?prefix]`: the cache (the newest match with `prefix`). */
  getCache(key: string, prefix?: boolean, options?: CallOptions): Promise<Uint8Array>;
  /**
   * `POST /executor/caches/{key}`: stores a cache; `'exists'` when the key was already there
   * (HTTP 304: caches are immutable).
   */
  putCache(
    key: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: CallOptions & { size?: number },
  ): Promise<'created' | 'exists'>;
  /** `PUT /maintenance`. */
  enableMaintenance(options?: CallOptions): Promise<void>;
  /** `DELETE /maintenance`. */
  disableMaintenance(options?: CallOptions): Promise<void>;
  /** `GET /maintenance`: whether maintenance mode is asked for and whether it is served. */
  getMaintenanceStatus(options?: CallOptions): Promise<MaintenanceStatusResponse>;
  /** `GET /export`: the datamanager's data as a stream. */
  export(options?: CallOptions): Promise<ReadableStream<Uint8Array>>;
  /** `POST /import` (maintenance mode only). */
  import(data: Uint8Array | ReadableStream<Uint8Array>, options?: CallOptions): Promise<void>;
}

const seg = encodeURIComponent;

function addAll(p: URLSearchParams, key: string, values: readonly string[] | undefined): void {
  for (const v of values ?? []) p.append(key, v);
}

function logQuery(ref: LogRef): URLSearchParams {
  const p = new URLSearchParams({ runid: ref.runId, taskid: ref.taskId });
  if ('setup' in ref) p.append('setup', '');
  else p.append('step', String(ref.step));
  return p;
}

async function* bodyChunks(res: Response): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await res.body.cancel().catch(() => undefined);
  }
}

/**
 * Creates a runservice client.
 *
 * @example
 * ```ts
 * const rs = createRunserviceClient({ baseUrl: 'http://127.0.0.1:4003/api/v1alpha' });
 * const { run } = await rs.createRun({ group: '/project/p1/branch/main', name: 'ci', run_config_tasks: tasks });
 * for await (const ev of rs.runEvents({ signal })) console.log(ev.RunID, ev.Phase, ev.Result);
 * ```
 */
export function createRunserviceClient(options: RunserviceClientOptions): RunserviceClient {
  const http = createHttpCaller({
    service: 'runservice',
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    codes: {
      unreachable: RunserviceClientErrorCodes.Unreachable,
      connectionLost: RunserviceClientErrorCodes.ConnectionLost,
      timeout: RunserviceClientErrorCodes.Timeout,
      aborted: RunserviceClientErrorCodes.Aborted,
      badResponse: RunserviceClientErrorCodes.BadResponse,
    },
  });
  const { call, raw } = http;

  const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());

  function runsQuery(q: GetRunsOptions | GetGroupRunsOptions = {}): URLSearchParams {
    const p = new URLSearchParams();
    addAll(p, 'phase', q.phase);
    addAll(p, 'result', q.result);
    addAll(p, 'changegroup', q.changeGroups);
    if ('group' in q) addAll(p, 'group', q.group);
    if ('lastRun' in q && q.lastRun) p.append('lastrun', '');
    if (q.limit !== undefined) p.append('limit', String(q.limit));
    if (q.asc) p.append('asc', '');
    if (q.start !== undefined) p.append('start', String(q.start));
    return p;
  }

  const client: RunserviceClient = {
    getRun: (runId, changeGroups, o) => {
      const query = new URLSearchParams();
      addAll(query, 'changegroup', changeGroups);
      return call('GET', `/runs/${seg(runId)}`, { query, signal: o?.signal });
    },
    getRunByGroup: (group, counter, o) =>
      call('GET', `/runs/group/${seg(group)}/${counter}`, { signal: o?.signal }),
    getRuns: (q, o) => call('GET', '/runs', { query: runsQuery(q), signal: o?.signal }),
    getGroupRuns: (group, q, o) =>
      call('GET', `/runs/group/${seg(group)}`, { query: runsQuery(q), signal: o?.signal }),
    createRun: (req, o) => call('POST', '/runs', { body: req, signal: o?.signal }),
    runAction: (runId, req, o) =>
      call('PUT', `/runs/${seg(runId)}/actions`, { body: req, signal: o?.signal }),
    startRun: (runId, token, o) =>
      client.runAction(
        runId,
        { action_type: 'changephase', phase: 'running', change_groups_update_tokens: token ?? '' },
        o,
      ),
    cancelRun: (runId, token, o) =>
      client.runAction(
        runId,
        {
          action_type: 'changephase',
          phase: 'cancelled',
          change_groups_update_tokens: token ?? '',
        },
        o,
      ),
    stopRun: (runId, token, o) =>
      client.runAction(runId, { action_type: 'stop', change_groups_update_tokens: token ?? '' }, o),
    runTaskAction: (runId, taskId, req, o) =>
      call('PUT', `/runs/${seg(runId)}/tasks/${seg(taskId)}/actions`, {
        body: req,
        signal: o?.signal,
      }),
    approveRunTask: (runId, taskId, token, o) =>
      client.runTaskAction(
        runId,
        taskId,
        { action_type: 'approve', change_groups_update_tokens: token ?? '' },
        o,
      ),
    setRunTaskAnnotations: (runId, taskId, annotations, token, o) =>
      client.runTaskAction(
        runId,
        taskId,
        { action_type: 'setannotations', annotations, change_groups_update_tokens: token ?? '' },
        o,
      ),
    getChangeGroupsUpdateToken: (changeGroups, o) => {
      const query = new URLSearchParams();
      addAll(query, 'changegroup', changeGroups);
      return call('GET', '/changegroups', { query, signal: o?.signal });
    },
    runEvents: (o = {}) => runEventsIterable(o),
    async getLogs(ref, opts = {}, o) {
      const query = logQuery(ref);
      if (opts.follow) query.append('follow', '');
      const res = await raw('GET', '/logs', { query, signal: o?.signal });
      return bodyChunks(res);
    },
    deleteLogs: (ref, o) => call('DELETE', '/logs', { query: logQuery(ref), signal: o?.signal }),
    executorHeartbeat: (executor, o) =>
      call('POST', `/executor/${seg(executor.id)}`, { body: executor, signal: o?.signal }),
    deleteExecutor: (id, o) => call('DELETE', `/executor/${seg(id)}`, { signal: o?.signal }),
    getExecutorTasks: (id, o) => call('GET', `/executor/${seg(id)}/tasks`, { signal: o?.signal }),
    getExecutorTask: (id, taskId, o) =>
      call('GET', `/executor/${seg(id)}/tasks/${seg(taskId)}`, { signal: o?.signal }),
    updateExecutorTaskStatus: (id, et, o) =>
      call('POST', `/executor/${seg(id)}/tasks/${seg(et.id)}`, { body: et, signal: o?.signal }),
    async getArchive(taskId, step, o) {
      const query = new URLSearchParams({ taskid: taskId, step: String(step) });
      return bytes(await raw('GET', '/executor/archives', { query, signal: o?.signal }));
    },
    async hasCache(key, prefix, o) {
      const res = await raw('HEAD', `/executor/caches/${seg(key)}`, {
        query: new URLSearchParams(prefix ? { prefix: '' } : {}),
        signal: o?.signal,
        okStatuses: [404],
      });
      return res.status === 200;
    },
    async getCache(key, prefix, o) {
      const res = await raw('GET', `/executor/caches/${seg(key)}`, {
        query: new URLSearchParams(prefix ? { prefix: '' } : {}),
        signal: o?.signal,
      });
      return bytes(res);
    },
    async putCache(key, data, o) {
      const res = await raw('POST', `/executor/caches/${seg(key)}`, {
        rawBody: data,
        headers: o?.size !== undefined ? { 'content-length': String(o.size) } : {},
        signal: o?.signal,
        okStatuses: [304],
      });
      await res.body?.cancel();
      return res.status === 304 ? 'exists' : 'created';
    },
    enableMaintenance: (o) => call('PUT', '/maintenance', { signal: o?.signal }),
    disableMaintenance: (o) => call('DELETE', '/maintenance', { signal: o?.signal }),
    getMaintenanceStatus: (o) => call('GET', '/maintenance', { signal: o?.signal }),
    async export(o) {
      const res = await raw('GET', '/export', { signal: o?.signal });
      if (!res.body) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      return res.body;
    },
    async import(data, o) {
      const res = await raw('POST', '/import', { rawBody: data, signal: o?.signal });
      await res.body?.cancel();
    },
  };

  async function* runEventsIterable(o: RunEventsOptions): AsyncGenerator<RunEvent> {
    const reconnect = o.reconnect ?? true;
    const delay = o.reconnectDelayMs ?? 500;
    const aborted = () => options.signal?.aborted === true || o.signal?.aborted === true;
    for (;;) {
      try {
        const res = await raw('GET', '/runs/events', { signal: o.signal });
        o.onOpen?.();
        yield* parseSse(res, http.where('GET', '/runs/events'), o.onData);
      } catch (err) {
        if (aborted()) return;
        if (!reconnect) throw err;
      }
      if (!reconnect || aborted()) return;
      await new Promise((r) => setTimeout(r, delay));
      if (aborted()) return;
    }
  }

  return client;
}

/** Parses `data:` lines of a Server-Sent Events stream into JSON events. */
async function* parseSse(
  res: Response,
  where: string,
  onData?: () => void,
): AsyncGenerator<RunEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  let data: string[] = [];
  for await (const chunk of bodyChunks(res)) {
    onData?.();
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) {
          const text = data.join('\n');
          data = [];
          yield parseEvent(text, where);
        }
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  }
}

function parseEvent(text: string, where: string): RunEvent {
  try {
    return JSON.parse(text) as RunEvent;
  } catch (cause) {
    throw new AgolaError(`${where}: a run event is not JSON`, {
      code: RunserviceClientErrorCodes.BadResponse,
      cause,
    });
  }
}

import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { as, badRequest, newError, RemoteError } from '@agola-ts/errors';
import { createEtcdClient, EtcdMutex, EtcdSession, sleep, type EtcdClient } from '@agola-ts/etcd';
import { gitSourceForProject, type CommitStatus } from '@agola-ts/gitsources';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  API_PREFIX,
  createServiceHealth,
  createServiceServer,
  healthProblemOf,
  HEALTH_PATH,
  sendHealth,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import type { ProjectResponse, Run, RunEvent, RunPhase, RunResult } from '@agola-ts/types';
import { NotificationErrorCodes } from './codes.js';
import {
  commitStatusOf,
  maskURL,
  runOwnerOf,
  statusContext,
  statusDescription,
  webRunURL,
  type RunOwner,
} from './commit-status.js';
import type { NotificationConfig, NotificationSection } from './config.js';
import { isFinalPhase, RunStates, stateRank, type RunState } from './run-states.js';
import {
  DEFAULT_DELIVERIES_LIMIT,
  DEFAULT_DELIVERY_RETRY,
  DELIVERY_ID_RE,
  MAX_DELIVERIES_LIMIT,
  runWebhookPayload,
  WebhookDeliverer,
  type DeliveriesPage,
  type DeliveriesQuery,
  type DeliveryRecord,
  type DeliveryRetry,
  type DeliveryState,
} from './webhooks.js';

/** The etcd prefix of the notification service's keys. */
export const NOTIFICATION_ETCD_PREFIX = 'notification/';
/** The etcd lock that elects the one active instance (Agola's). */
export const RUN_EVENTS_LOCK = 'locks/runevents';

/** Reconnection backoff of the run event stream. */
export interface ReconnectBackoff {
  /** First delay after a lost stream. @default 500 */
  initialMs: number;
  /** Longest delay. @default 10000 */
  maxMs: number;
}

/** What the notification service is given besides its config (all optional). */
export interface NotificationDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
  /** An etcd client to use instead of one built from the config (its prefix is kept as is). */
  etcd?: EtcdClient;
  /** A runservice client to use instead of one built from `runserviceURL`. */
  runservice?: RunserviceClient;
  /** A configstore client to use instead of one built from `configstoreURL`. */
  configstore?: ConfigstoreClient;
  /** Webhook delivery retries (`deliveryAttempts` of the config wins for `attempts`). */
  deliveryRetry?: Partial<DeliveryRetry>;
  /** Reconnection backoff of the event stream. */
  reconnect?: Partial<ReconnectBackoff>;
  /** A standby instance tries the lock this often. @default 1000 */
  lockRetryMs?: number;
  /** The safety-net pass over unfinished runs runs this often. @default 60000 */
  resyncMs?: number;
}

/** The clients and stores of a started service. */
interface Wiring {
  etcd: EtcdClient;
  rs: RunserviceClient;
  cs: ConfigstoreClient;
  states: RunStates;
  deliverer: WebhookDeliverer;
}

/** Filters and paging of {@link Notification.deliveries} (newest first unless `asc`). */
export type DeliveriesFilter = DeliveriesQuery;

/** A notification service, created stopped. */
export interface Notification {
  /** Starts the election loop (and the web server when `web` is set). */
  start(): Promise<void>;
  /** Stops everything; deliveries still pending stay recorded and are resumed later. */
  stop(): Promise<void>;
  /** Whether this instance holds `locks/runevents` (is the active one). */
  readonly active: boolean;
  /** Whether the run event stream is open (on the active instance). */
  readonly streamOpen: boolean;
  /** The web server (once started with `web`). */
  readonly app: FastifyInstance | undefined;
  /** The web server's port (once started with `web`). */
  readonly port: number | undefined;
  /** The recorded webhook deliveries, newest first (one page: `limit`, default 100). */
  deliveries(filter?: DeliveriesFilter): Promise<DeliveryRecord[]>;
  /** One page of the recorded webhook deliveries, with the `start` of the next one. */
  deliveriesPage(filter?: DeliveriesFilter): Promise<DeliveriesPage>;
  /** Resolves when the queued work and the deliveries in flight are done (tests, tools). */
  idle(): Promise<void>;
}

const PAGE = 40;
const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed'];

function apiBase(u: string): string {
  let s = u;
  while (s.endsWith('/')) s = s.slice(0, -1);
  return s.endsWith(API_PREFIX) ? s : `${s}${API_PREFIX}`;
}

/**
 * The query of `GET /api/v1alpha/deliveries`: `limit` (1 and more, cut to 1000; default
 * 100), `start` (a delivery id: the page starts after it), `asc` (oldest first; bare, `true`
 * or `1`), `runid`, `state`.
 *
 * @throws `ERR_BAD_REQUEST` (400) for a repeated or unknown value.
 */
function parseDeliveriesQuery(query: unknown): DeliveriesQuery {
  const q = (query ?? {}) as Record<string, unknown>;
  const one = (k: string): string | undefined => {
    const v = Object.hasOwn(q, k) ? q[k] : undefined;
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw badRequest(`${k} must be given once`);
    return v;
  };
  const limitText = one('limit');
  let limit = DEFAULT_DELIVERIES_LIMIT;
  if (limitText !== undefined) {
    if (!/^\d{1,9}$/.test(limitText) || Number(limitText) < 1) {
      throw badRequest(`limit must be a number from 1 to ${MAX_DELIVERIES_LIMIT}`);
    }
    limit = Math.min(MAX_DELIVERIES_LIMIT, Number(limitText));
  }
  const state = one('state');
  if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
    throw badRequest(`state must be one of ${STATES.join(', ')}`);
  }
  const runId = one('runid');
  if (runId !== undefined && (runId === '' || runId.length > 200)) {
    throw badRequest('runid must be 1 to 200 characters');
  }
  const start = one('start');
  if (start !== undefined && !DELIVERY_ID_RE.test(start)) {
    throw badRequest('start must be a delivery id');
  }
  const ascText = one('asc');
  if (ascText !== undefined && !['', 'true', '1', 'false', '0'].includes(ascText)) {
    throw badRequest('asc must be true or false');
  }
  const asc = ascText === '' || ascText === 'true' || ascText === '1';
  return {
    limit,
    ...(asc ? { asc } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(state !== undefined ? { state: state as DeliveryState } : {}),
    ...(runId !== undefined ? { runId } : {}),
  };
}

/** The path and query of the page after `next` (the `Link: <...>; rel="next"` header). */
function nextPageLink(q: DeliveriesQuery, next: string): string {
  const p = new URLSearchParams();
  p.set('limit', String(q.limit ?? DEFAULT_DELIVERIES_LIMIT));
  p.set('start', next);
  if (q.asc) p.set('asc', 'true');
  if (q.runId !== undefined) p.set('runid', q.runId);
  if (q.state !== undefined) p.set('state', q.state);
  return `${API_PREFIX}/deliveries?${p.toString()}`;
}

const isNotFound = (err: unknown) => as(err, RemoteError)?.status === 404;

/**
 * Creates the notification service (reference §11). One active instance at a time (the etcd
 * lock `locks/runevents` under `notification/`) follows the runservice's run events and, for
 * each phase or result change of a run:
 * - sets the commit status of a project run on its forge (pending, success, failed, error,
 *   with Agola's context, description and run link); user runs get none;
 * - POSTs a signed JSON payload to every configured run webhook, retried with backoff and
 *   recorded in etcd.
 *
 * Beyond Agola, the last state notified of every unfinished run is kept in etcd: when the
 * event stream opens (at start and after every reconnect) and every `resyncMs`, the service
 * catches up from the runservice (those runs, the runs created since the last one it saw, the
 * active runs), so a run that finished while the stream was down still gets its final status.
 * Each lost stream is logged with its cause; `GET /health` is degraded once the stream has
 * been down longer than `streamDownGrace`.
 *
 * @throws `ERR_NOTIFICATION_INVALID_CONFIG` (from `start`) when a required URL is missing.
 * @example
 * ```ts
 * const notification = createNotification(
 *   { id: 'agola', webExposedURL: 'https://agola.example.com', runserviceURL: 'http://127.0.0.1:4000',
 *     configstoreURL: 'http://127.0.0.1:4002', etcd: { endpoints: ['http://127.0.0.1:2379'] } },
 *   { logger },
 * );
 * await notification.start();
 * ```
 */
export function createNotification(
  config: NotificationConfig | (NotificationSection & { id?: string }),
  deps: NotificationDeps = {},
): Notification {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const agolaId = config.id ?? 'agola';
  const webhooks = config.runWebhooks ?? [];
  const grace = config.streamDownGrace ?? 30_000;
  const idleTimeout = config.streamIdleTimeout ?? 45_000;
  const lockRetryMs = deps.lockRetryMs ?? 1000;
  const resyncMs = deps.resyncMs ?? 60_000;
  const backoff: ReconnectBackoff = { initialMs: 500, maxMs: 10_000, ...deps.reconnect };
  const retry: DeliveryRetry = {
    ...DEFAULT_DELIVERY_RETRY,
    ...deps.deliveryRetry,
    ...(config.deliveryAttempts !== undefined ? { attempts: config.deliveryAttempts } : {}),
  };
  const health = createServiceHealth();

  let controller: AbortController | undefined;
  let loopDone: Promise<void> | undefined;
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  let wiring: (Wiring & { ownEtcd: boolean }) | undefined;
  let active = false;
  let streamOpen = false;
  let streamDownSince: number | undefined;
  let tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after the work queued before it: events and catch-ups never interleave. */
  function enqueue(what: string, fn: () => Promise<void>): Promise<void> {
    const p = tail.then(fn).catch((err: unknown) => {
      if (!controller?.signal.aborted) logger.warn({ err }, `notification: ${what} failed`);
    });
    tail = p;
    return p;
  }

  function requireUrl(key: 'runserviceURL' | 'configstoreURL' | 'webExposedURL'): string {
    const v = config[key];
    if (!v) {
      throw newError(`notification config: ${key} is missing`, {
        code: NotificationErrorCodes.InvalidConfig,
      });
    }
    return v;
  }

  async function loadProject(w: Wiring, id: string, signal: AbortSignal): Promise<ProjectResponse> {
    return w.cs.getProject(id, { signal });
  }

  async function setCommitStatus(
    w: Wiring,
    project: ProjectResponse,
    run: Run,
    status: CommitStatus,
    signal: AbortSignal,
  ): Promise<void> {
    const { source } = await gitSourceForProject(w.cs, project, { signal });
    const sha =
      run.annotations && Object.hasOwn(run.annotations, 'commit_sha')
        ? (run.annotations['commit_sha'] ?? '')
        : '';
    await source.createCommitStatus(project.repository_path ?? '', sha, status, {
      targetURL: webRunURL(config.webExposedURL, project.id, run.counter),
      description: statusDescription(status),
      context: statusContext(agolaId, project.name, run.name),
      signal,
    });
  }

  /**
   * Notifies what changed for a run since the last time: its commit status (project runs)
   * and its webhooks. `state` is the event's phase and result (the run may be further on).
   */
  async function observe(
    w: Wiring,
    run: Run,
    state: { phase: RunPhase; result: RunResult },
    signal: AbortSignal,
  ): Promise<void> {
    const { phase, result } = state;
    const prev = await w.states.get(run.id);
    if (prev?.final) return;
    if (prev && stateRank(phase, result) < stateRank(prev.phase, prev.result)) return;
    const changed = !prev || prev.phase !== phase || prev.result !== result;
    let owner: RunOwner;
    try {
      owner = runOwnerOf(run.group);
    } catch (err) {
      logger.warn({ err, runId: run.id }, 'notification: run skipped');
      return;
    }
    const desired = owner.type === 'project' ? commitStatusOf(phase, result) : undefined;
    const needStatus = desired !== undefined && desired !== prev?.status;
    const notifyHooks = changed && webhooks.length > 0;
    if (!changed && !needStatus) return;

    let project: ProjectResponse | undefined;
    if (owner.type === 'project' && (needStatus || notifyHooks)) {
      try {
        project = await loadProject(w, owner.id, signal);
      } catch (err) {
        logger.warn({ err, runId: run.id, projectId: owner.id }, 'cannot load the run project');
      }
    }
    let status = prev?.status;
    if (needStatus && project) {
      if (project.remote_repository_config_type !== 'remotesource') {
        status = desired; // nothing to notify: a project without a forge
      } else {
        try {
          await setCommitStatus(w, project, run, desired, signal);
          status = desired;
          logger.debug({ runId: run.id, status }, 'commit status set');
        } catch (err) {
          // kept unset: the next catch-up or resync pass sets it
          logger.warn({ err, runId: run.id, status: desired }, 'cannot set the commit status');
        }
      }
    }
    if (notifyHooks) {
      await w.deliverer.enqueue(
        runWebhookPayload(run, state, {
          agolaId,
          ...(owner.type === 'project'
            ? {
                projectId: owner.id,
                link: webRunURL(config.webExposedURL, owner.id, run.counter),
                ...(project ? { projectPath: project.Path } : {}),
              }
            : { userId: owner.id }),
        }),
      );
    }
    const final = isFinalPhase(phase) && (desired === undefined || status === desired);
    const next: RunState = {
      phase,
      result,
      ...(status ? { status } : {}),
      ...(final ? { final: true } : {}),
    };
    await w.states.put(run.id, next);
  }

  async function bumpLastRun(w: Wiring, id: string): Promise<void> {
    const last = await w.states.lastRunId();
    if (last === undefined || id > last) await w.states.setLastRunId(id);
  }

  async function handleEvent(w: Wiring, ev: RunEvent, signal: AbortSignal): Promise<void> {
    let run: Run;
    try {
      ({ run } = await w.rs.getRun(ev.RunID, [], { signal }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await observe(w, run, { phase: ev.Phase, result: ev.Result }, signal);
    await bumpLastRun(w, run.id);
  }

  /** Every run of `phase`, ascending, page by page. */
  async function* runsIn(w: Wiring, phase: RunPhase, signal: AbortSignal): AsyncGenerator<Run> {
    let start: string | undefined;
    for (;;) {
      const { runs } = await w.rs.getRuns(
        { phase: [phase], asc: true, limit: PAGE, ...(start ? { start } : {}) },
        { signal },
      );
      for (const r of runs) {
        start = r.id;
        yield r;
      }
      if (runs.length < PAGE) return;
    }
  }

  /**
   * Looks at every run whose notifications may be behind: the unfinished runs in the states,
   * the runs created after the last one seen, and the active runs.
   */
  async function catchUp(w: Wiring, reason: string, signal: AbortSignal): Promise<void> {
    const seen = new Set<string>();
    const look = async (run: Run) => {
      if (seen.has(run.id)) return;
      seen.add(run.id);
      try {
        await observe(w, run, run, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        logger.warn({ err, runId: run.id }, 'notification: catching up on a run failed');
      }
    };
    for (const id of await w.states.unfinished()) {
      try {
        const { run } = await w.rs.getRun(id, [], { signal });
        await look(run);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await w.states.delete(id);
      }
    }
    let last = await w.states.lastRunId();
    if (last === undefined) {
      // first start: notify from now on, as Agola (older runs are not this service's past);
      // '' (no run yet) makes the next catch-up list every run
      const { runs } = await w.rs.getRuns({ limit: 1 }, { signal });
      await w.states.setLastRunId(runs[0]?.id ?? '');
    } else {
      for (;;) {
        const { runs } = await w.rs.getRuns(
          { asc: true, limit: PAGE, ...(last ? { start: last } : {}) },
          { signal },
        );
        for (const r of runs) {
          await look(r);
          last = r.id;
        }
        if (runs.length > 0) await w.states.setLastRunId(last);
        if (runs.length < PAGE) break;
      }
    }
    for (const phase of ['queued', 'running'] as const) {
      for await (const r of runsIn(w, phase, signal)) await look(r);
    }
    logger.info({ reason, runs: seen.size }, 'notification caught up with the runservice');
  }

  /** Follows the run events while `signal` (the lock) holds; reconnects with backoff. */
  async function followEvents(w: Wiring, signal: AbortSignal): Promise<void> {
    let failures = 0;
    let opened = 0;
    streamDownSince = Date.now();
    const resync = setInterval(() => {
      if (streamOpen) void enqueue('resync pass', () => catchUp(w, 'resync', signal));
    }, resyncMs);
    try {
      while (!signal.aborted) {
        let cause: unknown;
        // a connection that delivers no byte (not even the keep-alive comments) for
        // `idleTimeout` is dead though still open: abort it and open another
        const silence = new AbortController();
        let lastByte = Date.now();
        const watchdog = setInterval(
          () => {
            if (Date.now() - lastByte <= idleTimeout) return;
            silence.abort(
              newError(
                `the run event stream sent nothing for ${Math.round((Date.now() - lastByte) / 1000)} s (streamIdleTimeout)`,
                { code: NotificationErrorCodes.StreamSilent },
              ),
            );
          },
          Math.max(20, Math.min(1000, Math.floor(idleTimeout / 4))),
        );
        try {
          for await (const ev of w.rs.runEvents({
            reconnect: false,
            signal: AbortSignal.any([signal, silence.signal]),
            onData: () => {
              lastByte = Date.now();
            },
            onOpen: () => {
              streamOpen = true;
              streamDownSince = undefined;
              failures = 0;
              opened++;
              const reason = opened === 1 ? 'start' : 'reconnect';
              logger.info({ reason }, 'run event stream open');
              void enqueue('catching up', () => catchUp(w, reason, signal));
            },
          })) {
            void enqueue('handling a run event', () => handleEvent(w, ev, signal));
          }
          cause = silence.signal.aborted
            ? silence.signal.reason
            : newError('the runservice ended the run event stream', {
                code: NotificationErrorCodes.StreamDown,
              });
        } catch (err) {
          cause = silence.signal.aborted ? silence.signal.reason : err;
        } finally {
          clearInterval(watchdog);
        }
        streamOpen = false;
        if (signal.aborted) return;
        // a silent stream has been down since its last byte
        streamDownSince ??= silence.signal.aborted ? lastByte : Date.now();
        failures++;
        const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
        logger.warn(
          { err: cause, retryInMs: delay, downForMs: Date.now() - streamDownSince },
          'run event stream lost, reconnecting',
        );
        await sleep(delay, signal);
      }
    } finally {
      clearInterval(resync);
      streamOpen = false;
    }
  }

  /**
   * Agola's loop: take the lock (or wait as a standby), then follow the events under it.
   * Unlike Agola, which grants and revokes a lease on every try, one lease (kept alive) is
   * used for every try of the process; a new one is granted only when it is lost.
   */
  async function electionLoop(w: Wiring, signal: AbortSignal): Promise<void> {
    let session: EtcdSession | undefined;
    let mutex: EtcdMutex | undefined;
    try {
      while (!signal.aborted) {
        try {
          if (!session || !mutex || session.lost) {
            if (session) {
              logger.warn(
                { err: session.signal.reason },
                'notification election lease lost, granting a new one',
              );
              await session.close().catch(() => undefined);
              session = undefined;
            }
            session = await EtcdSession.create(w.etcd, { ttlSeconds: 5 });
            mutex = new EtcdMutex(w.etcd, session, RUN_EVENTS_LOCK);
          }
          health.report('etcd', undefined);
          if (await mutex.tryLock()) {
            active = true;
            logger.info('notification active (holds locks/runevents)');
            const lockSignal = AbortSignal.any([signal, session.signal]);
            w.deliverer.start();
            const resumed = await w.deliverer.resume();
            if (resumed > 0) logger.info({ resumed }, 'pending run webhook deliveries resumed');
            await followEvents(w, lockSignal);
            if (!signal.aborted) {
              logger.warn({ err: session.signal.reason }, 'notification lost locks/runevents');
            }
          }
        } catch (err) {
          if (!signal.aborted) {
            logger.warn({ err }, 'notification election failed, retrying');
            health.report('etcd', healthProblemOf(err, 'notification election'));
          }
        } finally {
          if (active) {
            active = false;
            streamDownSince = undefined;
            await tail;
            await w.deliverer.stop();
            await mutex?.unlock().catch(() => undefined);
          }
        }
        await sleep(lockRetryMs, signal);
      }
    } finally {
      await mutex?.unlock().catch(() => undefined);
      await session?.close().catch(() => undefined);
    }
  }

  function healthReport() {
    const down = streamDownSince;
    if (active && down !== undefined && Date.now() - down > grace) {
      health.report('events', {
        code: NotificationErrorCodes.StreamDown,
        message: `the run event stream has been down for ${Math.round((Date.now() - down) / 1000)} s`,
      });
    } else {
      health.report('events', undefined);
    }
    return health.snapshot();
  }

  return {
    get active() {
      return active;
    },
    get streamOpen() {
      return streamOpen;
    },
    get app() {
      return app;
    },
    get port() {
      return port;
    },
    deliveries(filter = {}) {
      return wiring ? wiring.deliverer.list(filter) : Promise.resolve([]);
    },
    deliveriesPage(filter = {}) {
      return wiring ? wiring.deliverer.page(filter) : Promise.resolve({ deliveries: [] });
    },
    async idle() {
      let t: Promise<void>;
      do {
        t = tail;
        await t;
        await wiring?.deliverer.idle();
      } while (t !== tail);
    },
    async start() {
      if (controller) return;
      requireUrl('webExposedURL');
      const runserviceURL = deps.runservice ? '' : requireUrl('runserviceURL');
      const configstoreURL = deps.configstore ? '' : requireUrl('configstoreURL');
      const etcd =
        deps.etcd ??
        createEtcdClient({
          endpoints: config.etcd?.endpoints ?? ['http://127.0.0.1:2379'],
          prefix: NOTIFICATION_ETCD_PREFIX,
        });
      const w = {
        etcd,
        ownEtcd: deps.etcd === undefined,
        rs: deps.runservice ?? createRunserviceClient({ baseUrl: apiBase(runserviceURL) }),
        cs: deps.configstore ?? createConfigstoreClient({ baseUrl: apiBase(configstoreURL) }),
        states: new RunStates(etcd),
        deliverer: new WebhookDeliverer({
          etcd,
          webhooks,
          logger,
          retry,
          retentionMs: config.deliveryRetention ?? 7 * 24 * 3_600_000,
        }),
      };
      wiring = w;
      const ctl = new AbortController();
      controller = ctl;
      for (const [i, hook] of webhooks.entries()) {
        logger.info({ webhook: maskURL(hook.url), index: i, events: hook.events }, 'run webhook');
      }
      const listen = config.web?.listen;
      if (listen) {
        const server = createServiceServer({ logger, name: 'notification' });
        server.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, healthReport()));
        await server.register(
          async (api) => {
            api.get('/deliveries', async (req, reply) => {
              const q = parseDeliveriesQuery(req.query);
              const page = await w.deliverer.page(q);
              if (page.next !== undefined) {
                reply.header('link', `<${nextPageLink(q, page.next)}>; rel="next"`);
              }
              return page.deliveries;
            });
          },
          { prefix: API_PREFIX },
        );
        try {
          await server.listen(listen);
        } catch (err) {
          controller = undefined;
          wiring = undefined;
          if (w.ownEtcd) etcd.close();
          throw err;
        }
        const bound = server.server.address();
        port = typeof bound === 'object' && bound ? bound.port : listen.port;
        app = server;
      }
      loopDone = electionLoop(w, ctl.signal);
    },
    async stop() {
      const ctl = controller;
      if (!ctl) return;
      ctl.abort();
      await loopDone;
      await app?.close();
      app = undefined;
      port = undefined;
      if (wiring?.ownEtcd) wiring.etcd.close();
      wiring = undefined;
      controller = undefined;
    },
  };
}

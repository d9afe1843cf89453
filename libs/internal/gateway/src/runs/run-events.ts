import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, is } from '@agola-ts/errors';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type { ServiceLogger } from '@agola-ts/service-kit';
import type { RunEvent } from '@agola-ts/types';
import { authenticate } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { isRemoteNotExist, passThrough } from '../downstream.js';
import { canGetProject, canGetUserRuns, forgetCallerOrgs } from '../permissions.js';
import { MAX_FIELD_LENGTH } from '../request.js';
import { baseRunGroup } from './create-runs.js';

/**
 * One event of `GET /api/v1alpha/runs/events` (an Agola-TS route: Agola's gateway has none): a
 * run of the watched project or user changed phase or result.
 */
export interface GatewayRunEvent {
  /** The runservice's event sequence (increasing). */
  sequence: string;
  /** The run's id. */
  run_id: string;
  /** The run's number in its project or user (`.../runs/{number}`). */
  run_number: number;
  /** The run's phase after the change. */
  phase: string;
  /** The run's result after the change. */
  result: string;
}

/** Settings of the run events stream (tests shorten them). */
export interface RunEventsSettings {
  /** Interval of the keep-alive comments sent to each client. @default 15000 */
  keepAliveMs: number;
  /**
   * Most bytes a client may leave unread: past it the client is dropped (an `error` event with
   * `ERR_GATEWAY_RUN_EVENTS_OVERFLOW`, then the end), so it never holds the others back.
   * @default 262144
   */
  maxClientBufferBytes: number;
  /** First wait before reconnecting to the runservice; doubled at each failure. @default 250 */
  reconnectMinMs: number;
  /** Longest wait before reconnecting to the runservice. @default 10000 */
  reconnectMaxMs: number;
  /** How long a new client waits for the upstream stream to open before it is answered. @default 3000 */
  openWaitMs: number;
}

/** The default {@link RunEventsSettings}. */
export const DEFAULT_RUN_EVENTS_SETTINGS: RunEventsSettings = {
  keepAliveMs: 15_000,
  maxClientBufferBytes: 256 * 1024,
  reconnectMinMs: 250,
  reconnectMaxMs: 10_000,
  openWaitMs: 3000,
};

/** Most run id → group lookups kept (a run's group never changes). */
const RUN_GROUPS_KEPT = 10_000;

/** A client of the hub: the base run group it watches and how to hand it an event. */
interface Subscriber {
  baseGroup: string;
  send(event: GatewayRunEvent): void;
}

/** Counters of a {@link RunEventsHub}. */
export interface RunEventsStats {
  /** Times the upstream runservice stream opened (a reconnection counts again). */
  upstreamConnects: number;
  /** Whether the upstream stream is open now. */
  connected: boolean;
  /** Clients subscribed now. */
  subscribers: number;
}

/**
 * The gateway's single upstream `GET /runs/events` of the runservice, shared by every client:
 * open while at least one client listens, reconnected with a doubling backoff when it drops.
 * Each event's run is looked up once (its group, kept) and handed to the clients of that group.
 */
export interface RunEventsHub {
  /** Adds a client; the returned function removes it. */
  subscribe(sub: Subscriber): () => void;
  /** Resolves once the upstream stream is open, or after `timeoutMs`, or when `signal` aborts. */
  ready(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Ends every client's stream (and the upstream one). */
  close(): void;
  /** Registers a client's end, called by {@link close}. */
  onClose(end: () => void): () => void;
  /** Its counters. */
  readonly stats: RunEventsStats;
}

interface RunGroup {
  baseGroup: string;
  counter: number;
}

/**
 * Creates the {@link RunEventsHub} of a gateway.
 *
 * @example
 * ```ts
 * const hub = createRunEventsHub({ runservice, logger, settings: DEFAULT_RUN_EVENTS_SETTINGS });
 * const leave = hub.subscribe({ baseGroup: '/project/p1', send: (e) => console.log(e) });
 * ```
 */
export function createRunEventsHub(o: {
  runservice: RunserviceClient;
  logger: ServiceLogger;
  settings: RunEventsSettings;
}): RunEventsHub {
  const byGroup = new Map<string, Set<Subscriber>>();
  const ends = new Set<() => void>();
  const groups = new Map<string, RunGroup>();
  let subscribers = 0;
  let upstreamConnects = 0;
  let connected = false;
  let upstream: AbortController | undefined;
  let waiters: (() => void)[] = [];

  const opened = () => {
    upstreamConnects++;
    connected = true;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const groupOf = async (runId: string, signal: AbortSignal): Promise<RunGroup | undefined> => {
    const kept = groups.get(runId);
    if (kept) return kept;
    try {
      const { run } = await o.runservice.getRun(runId, undefined, { signal });
      const parts = run.group.split('/');
      const found = { baseGroup: parts.slice(0, 3).join('/'), counter: run.counter };
      groups.set(runId, found);
      if (groups.size > RUN_GROUPS_KEPT) {
        const oldest = groups.keys().next();
        if (!oldest.done) groups.delete(oldest.value);
      }
      return found;
    } catch (err) {
      if (signal.aborted) return undefined;
      // an archived-and-gone or unknown run: nobody can be told which group it was in
      if (isRemoteNotExist(err)) o.logger.debug({ runId }, 'run of a run event not found');
      else o.logger.warn({ err, runId }, 'looking up the run of a run event');
      return undefined;
    }
  };

  const dispatch = async (ev: RunEvent, signal: AbortSignal) => {
    if (subscribers === 0) return;
    const g = await groupOf(ev.RunID, signal);
    if (!g) return;
    const subs = byGroup.get(g.baseGroup);
    if (!subs) return;
    const event: GatewayRunEvent = {
      sequence: ev.Sequence,
      run_id: ev.RunID,
      run_number: g.counter,
      phase: ev.Phase,
      result: ev.Result,
    };
    for (const s of [...subs]) s.send(event);
  };

  const run = async (signal: AbortSignal) => {
    let delay = o.settings.reconnectMinMs;
    while (!signal.aborted) {
      try {
        for await (const ev of o.runservice.runEvents({
          reconnect: false,
          signal,
          onOpen: () => {
            delay = o.settings.reconnectMinMs;
            opened();
          },
        })) {
          await dispatch(ev, signal);
        }
        if (!signal.aborted) o.logger.warn('the runservice ended the run events stream');
      } catch (err) {
        if (!signal.aborted) o.logger.warn({ err }, 'run events stream of the runservice failed');
      }
      connected = false;
      if (signal.aborted) return;
      o.logger.info({ delayMs: delay }, 'reconnecting to the run events of the runservice');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, o.settings.reconnectMaxMs);
    }
  };

  const stopUpstream = () => {
    upstream?.abort();
    upstream = undefined;
    connected = false;
  };

  return {
    subscribe(sub) {
      let set = byGroup.get(sub.baseGroup);
      if (!set) byGroup.set(sub.baseGroup, (set = new Set()));
      set.add(sub);
      subscribers++;
      if (!upstream) {
        const ac = new AbortController();
        upstream = ac;
        void run(ac.signal);
      }
      let left = false;
      return () => {
        if (left) return;
        left = true;
        set.delete(sub);
        if (set.size === 0 && byGroup.get(sub.baseGroup) === set) byGroup.delete(sub.baseGroup);
        subscribers--;
        if (subscribers === 0) stopUpstream();
      };
    },
    ready(timeoutMs, signal) {
      if (connected || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          waiters = waiters.filter((w) => w !== done);
          resolve();
        };
        const t = setTimeout(done, timeoutMs);
        signal.addEventListener('abort', done, { once: true });
        waiters.push(done);
      });
    },
    close() {
      for (const end of [...ends]) end();
      stopUpstream();
    },
    onClose(end) {
      ends.add(end);
      return () => ends.delete(end);
    },
    get stats() {
      return { upstreamConnects, connected, subscribers };
    },
  };
}

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest, callerOf: invalid });

const notAuthorized = () =>
  forbidden('user not authorized', { code: GatewayErrorCodes.Forbidden, callerOf: notAuthorized });

/** The one string value of query parameter `name` (undefined when absent). @throws 400 */
function oneQueryValue(req: FastifyRequest, name: string): string | undefined {
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (!Object.hasOwn(q, name)) return undefined;
  const v = q[name];
  if (typeof v !== 'string') throw invalid(`${name} must be given once`);
  if (v === '') throw invalid(`${name} is empty`);
  if (v.length > MAX_FIELD_LENGTH) throw invalid(`${name} is too long`);
  return v;
}

/** What a client watches, and how to check again that it may. */
interface Watch {
  baseGroup: string;
  /** False once the caller may no longer read (project made private, gone). */
  stillAllowed(): Promise<boolean>;
}

async function watchOf(ctx: GatewayContext, req: FastifyRequest): Promise<Watch> {
  const projectRef = oneQueryValue(req, 'projectref');
  const userRef = oneQueryValue(req, 'userref');
  if ((projectRef === undefined) === (userRef === undefined))
    throw invalid('exactly one of projectref and userref is required');
  const ttl = () => ctx.cacheSettings.permissionsTtlMs;
  if (projectRef !== undefined) {
    const load = () =>
      ctx.cache.get(`project:${projectRef}`, () => ctx.configstore.getProject(projectRef), ttl);
    let project;
    try {
      project = await load();
    } catch (err) {
      throw passThrough(err);
    }
    if (!(await canGetProject(ctx, req, project))) throw notAuthorized();
    return {
      baseGroup: baseRunGroup('project', project.id),
      stillAllowed: async () => {
        forgetCallerOrgs(req);
        const p = await load();
        return p.id === project.id && (await canGetProject(ctx, req, p));
      },
    };
  }
  const ref = userRef ?? '';
  let user;
  try {
    user = await ctx.cache.get(`user:${ref}`, () => ctx.configstore.getUser(ref), ttl);
  } catch (err) {
    throw passThrough(err);
  }
  if (!canGetUserRuns(req, user.id)) throw notAuthorized();
  return { baseGroup: baseRunGroup('user', user.id), stillAllowed: async () => true };
}

/**
 * Whether the stream's credentials still name the caller they named at its start: a deleted
 * token, an expired login token or a deleted user end the stream (anonymous callers stay).
 */
async function stillAuthenticated(ctx: GatewayContext, req: FastifyRequest): Promise<boolean> {
  const before = req.auth;
  if (!before.user && !before.isAdmin) return true;
  try {
    const now = await authenticate(ctx, req);
    return now.isAdmin === before.isAdmin && now.user?.id === before.user?.id;
  } catch (err) {
    if (is(err, GatewayErrorCodes.InvalidToken)) return false;
    throw err;
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);

/** An SSE `error` event that ends a stream: the gateway's error JSON. */
const endEvent = (code: string, message: string) =>
  `event: error\ndata: ${JSON.stringify({ code, message })}\n\n`;

/**
 * `GET /runs/events?projectref=<ref>` or `?userref=<ref>` (Agola-TS; Agola's gateway has no
 * such route): Server-Sent Events (`data: <GatewayRunEvent JSON>`) of the runs of a project the
 * caller may read (public, or the caller is a member) or of a user's direct runs (that user or
 * the admin). Anonymous callers get public projects only. The answer starts once the upstream
 * stream is open (or after `openWaitMs`): every later event is delivered. Keep-alive comments
 * every `keepAliveMs`; the caller's access is checked again at each keep-alive.
 */
export function registerRunEventsRoute(
  api: FastifyInstance,
  ctx: GatewayContext,
  hub: RunEventsHub,
  settings: RunEventsSettings,
): void {
  api.get('/runs/events', async (req, reply) => {
    const watch = await watchOf(ctx, req);
    const closed = new AbortController();
    // the response's close: the client went away (or the answer ended)
    reply.raw.once('close', () => closed.abort());
    // the raw response once answered, and how to leave the hub
    const out: { res?: ServerResponse; leave?: () => void; unregister?: () => void } = {};
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (last?: string) => {
      if (finished) return;
      finished = true;
      out.leave?.();
      out.unregister?.();
      const res = out.res;
      for (const t of timers) clearInterval(t);
      if (res && !res.destroyed) {
        const r = res;
        r.end(last);
        // a client that reads nothing more does not keep its socket
        setTimeout(() => r.destroy(), 5000).unref();
      }
    };
    const pending: GatewayRunEvent[] = [];
    const write = (event: GatewayRunEvent) => {
      const res = out.res;
      if (finished) return;
      if (!res) {
        pending.push(event);
        return;
      }
      if (res.writableLength > settings.maxClientBufferBytes) {
        req.log.warn('run events client too slow: dropped');
        finish(
          endEvent(
            GatewayErrorCodes.RunEventsOverflow,
            'the client does not read its run events fast enough',
          ),
        );
        return;
      }
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    };
    // subscribed before the upstream opens, so nothing between the two is lost
    out.leave = hub.subscribe({ baseGroup: watch.baseGroup, send: write });
    out.unregister = hub.onClose(() => finish());
    closed.signal.addEventListener('abort', () => finish(), { once: true });
    await hub.ready(settings.openWaitMs, closed.signal);
    reply.hijack();
    if (finished) {
      // the client left, or the gateway stops, before the answer started
      reply.raw.destroy();
      return;
    }
    const res = reply.raw;
    out.res = res;
    const headers: Record<string, string | number | string[]> = {};
    // what the hooks set (CORS) goes out too
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write(':\n\n');
    for (const e of pending.splice(0)) write(e);
    let checking = false;
    timers.push(
      setInterval(() => {
        if (finished) return;
        res.write(':\n\n');
        if (checking) return;
        checking = true;
        stillAuthenticated(ctx, req)
          .then(async (authenticated) => authenticated && (await watch.stillAllowed()))
          .then((ok) => {
            if (!ok) finish(endEvent(GatewayErrorCodes.Forbidden, 'user not authorized any more'));
          })
          .catch((err: unknown) => {
            if (isRemoteNotExist(err))
              finish(endEvent(GatewayErrorCodes.Forbidden, 'the project does not exist any more'));
            else req.log.warn({ err }, 'checking access of a run events client');
          })
          .finally(() => {
            checking = false;
          });
      }, settings.keepAliveMs),
    );
  });
}

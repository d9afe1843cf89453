import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { MAINTENANCE_KEY, type ServiceMode } from '@agola-ts/datamanager';
import { compactText, wrap } from '@agola-ts/errors';
import { sleep, type EtcdClient } from '@agola-ts/etcd';
import { API_PREFIX } from './api-prefix.js';
import { ServiceKitErrorCodes } from './codes.js';
import { handleError } from './error-handler.js';
import {
  createServiceHealth,
  HEALTH_PATH,
  healthProblemOf,
  sendHealth,
  withUnavailable,
  type ServiceHealth,
} from './health.js';
import type { ListenAddress } from './listen.js';
import { createServiceServer } from './server.js';
import type { ServiceLogger } from './service-logger.js';

/** Longest wait between retries (etcd unreachable, a mode failing to start). */
const MAX_RETRY_MS = 30_000;
/** How long a mode that stops waits for the requests it took before it closes. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Counts the requests a mode's app is answering. */
class InFlight {
  count = 0;
  private readonly waiters = new Set<() => void>();

  /** Counts `res` until it closes (answered, or the connection dropped). */
  enter(res: ServerResponse): void {
    this.count++;
    res.once('close', () => {
      this.count--;
      if (this.count === 0) for (const wake of this.waiters) wake();
    });
  }

  /** Resolves true once no request runs, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}

/** What a service's routes get besides the fastify instance. */
export interface ServiceContext {
  /** The mode these routes serve in. */
  mode: ServiceMode;
  /** Aborted when the service stops or leaves this mode. */
  signal: AbortSignal;
  /** The service's etcd client (the one holding its maintenance key). */
  etcd: EtcdClient;
  logger: ServiceLogger;
  /** The service's health: components report their problems here (`GET /health`). */
  health: ServiceHealth;
}

/**
 * Declares a router: registers routes on `api` (already under `API_PREFIX`). It may start
 * what the routes need (a datamanager...) and stop it in an `onClose` hook of `api`. The
 * routes are served once it resolves; until then requests get a 503 and `GET /health`
 * answers. If it throws, the mode is started again after a backoff.
 */
export type ServiceRoutes = (api: FastifyInstance, ctx: ServiceContext) => void | Promise<void>;

/** Options of {@link runService}. */
export interface RunServiceOptions {
  /** Service name, in the logs. */
  name: string;
  /** The service's etcd client; its prefix holds the maintenance key. */
  etcd: EtcdClient;
  /** Stops the service (the promise of {@link runService} resolves once closed). */
  signal: AbortSignal;
  logger: ServiceLogger;
  listen: ListenAddress;
  /** The router of each mode. */
  routes: { normal: ServiceRoutes; maintenance: ServiceRoutes };
  /** JSON body limit of both servers. @default 1 MiB */
  bodyLimit?: number;
  /** How long to keep trying while the port is busy at start. @default 10000 */
  busyTimeoutMs?: number;
  /**
   * First wait before retrying a mode that failed to start or an unreachable etcd; it
   * doubles on each failure, up to 30 s. @default 1000
   */
  retryMs?: number;
  /** The health `GET /health` answers from. @default a new one */
  health?: ServiceHealth;
  /** Called once the port listens (`GET /health` answers from then on). */
  onServerListening?: (info: { port: number }) => void;
  /** Called each time a mode's routes are served (for observability and tests). */
  onListening?: (info: { mode: ServiceMode; port: number; app: FastifyInstance }) => void;
}

/**
 * Runs a service's HTTP API, following its maintenance mode. The port listens from the start
 * and for the whole run; behind it, each mode gets a fresh fastify app built with that mode's
 * router (the previous one is closed first). Every instance watches the maintenance key, so
 * all instances switch (eventually) when it changes. In maintenance mode the routes of the
 * normal router do not exist: they answer 404 `ERR_SERVICE_NO_ROUTE` saying the service is in
 * maintenance mode (405 when the path also exists in the maintenance router).
 *
 * Always reachable: `GET /health` (outside `API_PREFIX`) answers in every mode and state
 * (see {@link HealthReport}); any other request gets a 503 `ERR_SERVICE_UNAVAILABLE` while no
 * mode is served (starting, switching, a router still waiting for its readdb).
 *
 * etcd away: the mode being served keeps running (reads are answered from the readdb); a
 * route error that means etcd is unreachable is a 503 `ERR_SERVICE_UNAVAILABLE`; health is
 * degraded (component `etcd`) and the key watch is retried with backoff, each retry logged
 * with its cause. When etcd answers again the watch resumes, without a restart. Only an
 * etcd unreachable at start leaves the mode unknown (every API request a 503) until it answers.
 *
 * @example
 * ```ts
 * await runService({
 *   name: 'configstore', etcd, signal, logger, listen: { host: '0.0.0.0', port: 4002 },
 *   routes: {
 *     normal: (api, ctx) => { registerUserRoutes(api); void api.register(maintenanceRoutes, { etcd, data, mode: ctx.mode }); },
 *     maintenance: (api, ctx) => { void api.register(maintenanceRoutes, { etcd, data, mode: ctx.mode }); },
 *   },
 * });
 * ```
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { signal, etcd } = options;
  const logger = options.logger;
  const log = logger.child({ service: options.name });
  const health = options.health ?? createServiceHealth();
  const retryMs = options.retryMs ?? 1000;

  // the app that answers /health, and 503 while no mode is served (naming the reasons by
  // component and code only: their messages may hold internal details, /health has them)
  const base = createServiceServer({ logger, name: options.name, requestLogging: false });
  base.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, health.snapshot()));
  base.all('*', async (_req, reply) => {
    const reasons = health.snapshot().reasons.map((r) => `${r.component}: ${r.code}`);
    return reply
      .code(503)
      .type('application/json; charset=utf-8')
      .send({
        code: ServiceKitErrorCodes.Unavailable,
        message: `the service is not ready${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}; GET /health says why`,
      });
  });
  await base.ready();

  let serving: { app: FastifyInstance; requests: InFlight } | undefined;
  const server = createServer((req, res) => {
    if (serving === undefined || isHealthRequest(req)) {
      base.routing(req, res);
      return;
    }
    serving.requests.enter(res);
    serving.app.routing(req, res);
  });
  // malformed requests are answered the way the service kit's servers answer them
  server.on('clientError', (err, socket) => {
    if (base.server.listenerCount('clientError') > 0) base.server.emit('clientError', err, socket);
    else socket.destroy(err);
  });

  let port: number;
  try {
    port = await listenServer(server, options.listen, signal, options.busyTimeoutMs ?? 10_000);
  } catch (err) {
    await base.close();
    throw err;
  }
  log.info({ port }, 'listening');
  health.report('service', {
    code: ServiceKitErrorCodes.Starting,
    message: 'reading the service mode from etcd',
  });
  options.onServerListening?.({ port });

  /** One mode being started or served. */
  interface ModeRun {
    mode: ServiceMode;
    controller: AbortController;
    done: Promise<void>;
  }

  const startMode = (mode: ServiceMode): ModeRun => {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const modeSignal = controller.signal;
    const ctx: ServiceContext = { mode, signal: modeSignal, etcd, logger, health };
    const done = (async () => {
      let delay = retryMs;
      while (!modeSignal.aborted) {
        health.report('service', {
          code: ServiceKitErrorCodes.Starting,
          message: `starting the ${mode} mode`,
        });
        const app = createServiceServer({
          logger,
          name: options.name,
          ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
          ...(mode === 'maintenance' ? { notFoundHint: 'the service is in maintenance mode' } : {}),
        });
        try {
          await app.register(
            async (api) => {
              api.setErrorHandler(withUnavailable(handleError));
              await options.routes[mode](api, ctx);
            },
            { prefix: API_PREFIX },
          );
          await app.ready();
        } catch (err) {
          await app.close().catch(() => undefined);
          if (modeSignal.aborted) break;
          log.warn(
            { err, mode, delayMs: delay },
            `the ${mode} mode failed to start (${compactText(err)}); retrying in ${delay} ms`,
          );
          health.report('service', healthProblemOf(err, `the ${mode} mode failed to start`));
          await sleep(delay, modeSignal);
          delay = Math.min(delay * 2, MAX_RETRY_MS);
          continue;
        }
        const requests = new InFlight();
        if (!modeSignal.aborted) {
          serving = { app, requests };
          health.mode = mode;
          health.report('service', undefined);
          log.info({ mode }, 'service running');
          options.onListening?.({ mode, port, app });
          await abortion(modeSignal);
        }
        if (serving?.app === app) serving = undefined;
        health.mode = undefined;
        // the requests it took finish before its onClose hooks stop what they use
        if (!(await requests.idle(DRAIN_TIMEOUT_MS))) {
          log.warn(
            { mode, requests: requests.count },
            `closing the ${mode} mode with requests still running after ${DRAIN_TIMEOUT_MS} ms`,
          );
        }
        await app.close();
        break;
      }
    })().finally(() => signal.removeEventListener('abort', onAbort));
    return { mode, controller, done };
  };

  let current: ModeRun | undefined;
  const stopCurrent = async () => {
    const run = current;
    if (!run) return;
    current = undefined;
    run.controller.abort();
    await run.done;
  };
  let delay = retryMs;
  const etcdAway = async (err: unknown, what: string) => {
    health.report('etcd', healthProblemOf(err, `etcd unreachable (${what})`));
    log.warn(
      { err, delayMs: delay },
      `${what} failed (${compactText(err)}); retrying in ${delay} ms`,
    );
    await sleep(delay, signal);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };

  try {
    while (!signal.aborted) {
      let got: Awaited<ReturnType<EtcdClient['get']>>;
      try {
        got = await etcd.get(MAINTENANCE_KEY);
      } catch (err) {
        if (signal.aborted) break;
        await etcdAway(err, 'reading the maintenance key');
        continue;
      }
      health.report('etcd', undefined);
      delay = retryMs;
      const desired: ServiceMode = got.kv ? 'maintenance' : 'normal';
      if (current?.mode !== desired) {
        if (current) log.info({ from: current.mode, to: desired }, 'switching service mode');
        await stopCurrent();
        if (signal.aborted) break;
        current = startMode(desired);
      }
      try {
        for await (const res of etcd.watch(MAINTENANCE_KEY, {
          startRevision: got.revision + 1n,
          signal,
        })) {
          const last = [...res.events].reverse().find((e) => e.kv.key === MAINTENANCE_KEY);
          if (!last) continue;
          const next: ServiceMode = last.type === 'put' ? 'maintenance' : 'normal';
          // re-read the key: the loop switches when it no longer matches
          if (next !== current?.mode) break;
        }
      } catch (err) {
        if (signal.aborted) break;
        await etcdAway(err, 'watching the maintenance key');
      }
    }
  } finally {
    await stopCurrent();
    await closeServer(server);
    await base.close();
  }
}

function isHealthRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return url === HEALTH_PATH || url.startsWith(`${HEALTH_PATH}?`);
}

/**
 * Makes `server` listen, retrying while the port is busy (another process, or the previous
 * run of this service, may hold it for a moment). Returns the port.
 */
async function listenServer(
  server: Server,
  address: ListenAddress,
  signal: AbortSignal,
  busyTimeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ host: address.host, port: address.port }, () => {
          server.off('error', onError);
          resolve();
        });
      });
      const bound = server.address();
      return typeof bound === 'object' && bound !== null ? bound.port : address.port;
    } catch (err) {
      const busy = (err as { code?: unknown }).code === 'EADDRINUSE';
      if (!busy || Date.now() >= deadline || signal.aborted) {
        throw wrap(err, `listening on ${address.host}:${address.port}`, {
          code: ServiceKitErrorCodes.Listen,
        });
      }
      await sleep(delay, signal);
    }
  }
}

/** Closes the server: idle keep-alive connections at once, busy ones once they end (5 s at most). */
async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 5000);
  await closed;
  clearTimeout(timer);
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

import type { FastifyInstance } from 'fastify';
import { runMaintenanceAware, type ServiceMode } from '@agola-ts/datamanager';
import type { EtcdClient } from '@agola-ts/etcd';
import { API_PREFIX } from './api-prefix.js';
import { listenWithRetry, type ListenAddress } from './listen.js';
import { createServiceServer } from './server.js';
import type { ServiceLogger } from './service-logger.js';

/** What a service's routes get besides the fastify instance. */
export interface ServiceContext {
  /** The mode these routes serve in. */
  mode: ServiceMode;
  /** Aborted when the service stops or leaves this mode. */
  signal: AbortSignal;
  /** The service's etcd client (the one holding its maintenance key). */
  etcd: EtcdClient;
  logger: ServiceLogger;
}

/**
 * Declares a router: registers routes on `api` (already under `API_PREFIX`). It may start
 * what the routes need (a datamanager...) and stop it in an `onClose` hook of `api`.
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
  /** How long to wait for a busy port before a mode start fails. @default 10000 */
  busyTimeoutMs?: number;
  /** Wait before restarting a failed mode. @default 1000 */
  retryMs?: number;
  /** Called once the server of a mode listens (for observability and tests). */
  onListening?: (info: { mode: ServiceMode; port: number; app: FastifyInstance }) => void;
}

/**
 * Runs a service's HTTP API, following its maintenance mode: in each mode a fresh server is
 * built with that mode's router and listens on the same address (the previous server is
 * closed first; a port that stays busy a moment is retried). Every instance watches the
 * maintenance key, so all instances switch (eventually) when it changes. In maintenance mode
 * the routes of the normal router do not exist: they answer 404 `ERR_SERVICE_NO_ROUTE`
 * saying the service is in maintenance mode (405 when the path also exists in the
 * maintenance router).
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
  const logger = options.logger;
  let port = options.listen.port;
  await runMaintenanceAware({
    etcd: options.etcd,
    signal: options.signal,
    logger: logger.child({ service: options.name }),
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    run: async (mode, signal) => {
      const ctx: ServiceContext = { mode, signal, etcd: options.etcd, logger };
      const build = async () => {
        const app = createServiceServer({
          logger,
          name: options.name,
          ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
          ...(mode === 'maintenance' ? { notFoundHint: 'the service is in maintenance mode' } : {}),
        });
        await app.register(async (api) => options.routes[mode](api, ctx), { prefix: API_PREFIX });
        return app;
      };
      const started = await listenWithRetry(
        build,
        { host: options.listen.host, port },
        {
          signal,
          ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
        },
      );
      port = started.port;
      try {
        if (!signal.aborted) {
          options.onListening?.({ mode, port, app: started.app });
          await abortion(signal);
        }
      } finally {
        await started.app.close();
      }
    },
  });
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

import type { FastifyInstance } from 'fastify';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createObjectStorage, type ObjectStorage, type ObjectStorageConfig } from '@agola-ts/ost';
import { probeStorage } from './data-health.js';
import type { ServiceHealth } from './health.js';
import type { ListenAddress } from './listen.js';
import { runService, type ServiceRoutes } from './run-service.js';
import type { ServiceLogger } from './service-logger.js';

/** How often the storage is probed for `GET /health` unless told otherwise. */
const STORAGE_PROBE_INTERVAL_MS = 5000;

/** Options of {@link startDataService}. */
export interface DataServiceStartOptions {
  /** The service's name, in logs and errors (`configstore`, `runservice`). */
  name: string;
  /** Where it listens. */
  listen: ListenAddress;
  /** The service's etcd client; when missing one is created on `etcdEndpoints` and closed on stop. */
  etcd?: EtcdClient;
  /** Endpoints of the etcd client created when `etcd` is missing. */
  etcdEndpoints: string[];
  /** The etcd prefix of the created client's keys (`configstore/`). */
  etcdPrefix: string;
  /** The object storage; when missing one is created from `objectStorage`. */
  ost?: ObjectStorage;
  /** Config of the object storage created when `ost` is missing. */
  objectStorage: ObjectStorageConfig;
  /** Where in the object storage the service keeps its data: probed for `GET /health`. */
  storageBasePath: string;
  /** Builds the routers of the two modes once etcd and the storage exist. */
  routes(
    etcd: EtcdClient,
    ost: ObjectStorage,
  ): { normal: ServiceRoutes; maintenance: ServiceRoutes };
  health: ServiceHealth;
  logger: ServiceLogger;
  /** First retry delay of a mode that fails to start (the service kit's default if missing). */
  retryMs?: number;
  /** How often the storage is probed. @default 5000 */
  storageProbeIntervalMs?: number;
  /**
   * Resolve once the port listens (true: once the normal or maintenance routes are served).
   * @default false
   */
  resolveOnServerListening?: boolean;
}

/** A data service started by {@link startDataService}. */
export interface RunningDataService {
  /** The port it listens on. */
  readonly port: number;
  /** The app of the mode being served (undefined until the routes are served). */
  readonly app: FastifyInstance | undefined;
  /** Stops the service, the storage probe and the etcd client it created. */
  stop(): Promise<void>;
}

/**
 * Starts a service that keeps its data in a datamanager (the configstore, the runservice):
 * the etcd client and object storage unless given, the storage probe that reports to
 * `GET /health`, and {@link runService} with the two modes' routes. Resolves once the routes
 * are served (or the port listens, with `resolveOnServerListening`); rejects, having stopped
 * everything it started, when the service fails before that.
 */
export function startDataService(options: DataServiceStartOptions): Promise<RunningDataService> {
  const { name, logger, health } = options;
  const controller = new AbortController();
  const ownEtcd = options.etcd === undefined;
  const etcd =
    options.etcd ??
    createEtcdClient({ endpoints: options.etcdEndpoints, prefix: options.etcdPrefix });
  const ostLogger = logger.child({ component: 'ost' });
  const ost = options.ost ?? createObjectStorage(options.objectStorage, { logger: ostLogger });
  const probing = probeStorage(
    ost,
    options.storageBasePath,
    health,
    controller.signal,
    options.storageProbeIntervalMs ?? STORAGE_PROBE_INTERVAL_MS,
    ostLogger,
  );
  let port: number | undefined;
  let app: FastifyInstance | undefined;
  let done: Promise<void> | undefined;
  const running: RunningDataService = {
    get port() {
      return port ?? 0;
    },
    get app() {
      return app;
    },
    async stop() {
      controller.abort();
      await done;
      await probing;
      app = undefined;
    },
  };
  return new Promise<RunningDataService>((resolve, reject) => {
    done = runService({
      name,
      etcd,
      signal: controller.signal,
      logger,
      listen: options.listen,
      routes: options.routes(etcd, ost),
      health,
      ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
      onServerListening: (info) => {
        port = info.port;
        if (options.resolveOnServerListening === true) resolve(running);
      },
      onListening: (info) => {
        port = info.port;
        app = info.app;
        resolve(running);
      },
    }).then(
      () => {
        if (ownEtcd) etcd.close();
        reject(new Error(`${name} stopped before it listened`));
      },
      (err: unknown) => {
        controller.abort(); // the storage probe too
        if (ownEtcd) etcd.close();
        logger.error({ err }, `${name} failed`);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

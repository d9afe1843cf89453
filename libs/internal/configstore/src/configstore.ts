import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import {
  createDataManager,
  type DataManager,
  type DataManagerOptions,
} from '@agola-ts/datamanager';
import { createSqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { openDb, type Db } from '@agola-ts/db';
import { newError } from '@agola-ts/errors';
import type { EtcdClient } from '@agola-ts/etcd';
import type { ObjectStorage, ObjectStorageConfig } from '@agola-ts/ost';
import {
  API_PREFIX,
  createServiceHealth,
  maintenanceRoutes,
  startDataService,
  type RunningDataService,
  type DataServiceConfig,
  type HostPort,
  type ServiceHealth,
  type ServiceLogger,
  type ServiceRoutes,
  prepareReadDbFile,
  reportFollower,
  reportStorageSync,
  reportWalsLost,
  WALS_LOST_DEGRADED_MS,
} from '@agola-ts/service-kit';
import { registerOrgRoutes } from './orgs.js';
import { registerProjectGroupRoutes } from './project-groups.js';
import { registerProjectRoutes } from './projects.js';
import {
  DATA_TYPES,
  applyAction,
  applyActions,
  decodingSink,
  migrateReadDb,
  resetReadDb,
} from './readdb.js';

import { registerRemoteSourceRoutes } from './remote-sources.js';
import { registerSecretRoutes } from './secrets.js';
import { Store } from './store.js';
import { registerUserRoutes } from './users.js';

/** The etcd prefix of the configstore's keys. */
export const CONFIGSTORE_ETCD_PREFIX = 'configstore/';
/** Where in the object storage the configstore's datamanager keeps its data. */
export const CONFIGSTORE_BASE_PATH = 'configdata';
/**
 * Concurrent read transactions on the readdb: more than the db's default (4) keeps reads going
 * while a connection's result waits for the event loop (measured by the bench).
 */
const READ_CONNECTIONS = 8;
/** The readdb file, inside the data dir. */
export const READDB_FILE = 'readdb.sqlite';
/** How long lost wals keep the health degraded (the service kit's policy, re-exported). */
export { WALS_LOST_DEGRADED_MS };

/**
 * The configstore's config: the `configstore` section of the config file as
 * `dataServiceSchema` of `@agola-ts/service-kit` checks it (a `DataServiceConfig` fits).
 */
export interface ConfigstoreConfig {
  /** Holds the readdb (a sqlite file that can always be rebuilt). */
  dataDir: string;
  /** Where to listen (`listen` is `listenAddress` as `webSchema` parses it). */
  web: { listen: HostPort };
  /** etcd endpoints (the configstore uses the prefix `configstore/`). */
  etcd: { endpoints: string[] };
  /** The object storage (the datamanager uses `configdata/` in it). */
  objectStorage: ObjectStorageConfig;
}

/** What the configstore is given besides its config (all optional). */
export interface ConfigstoreDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
  /** An etcd client to use instead of one built from the config (its prefix is kept as is). */
  etcd?: EtcdClient;
  /** An object storage to use instead of one built from the config. */
  ost?: ObjectStorage;
  /** Datamanager tuning (intervals, sizes), mostly for tests. */
  dataManager?: Partial<
    Omit<DataManagerOptions, 'etcd' | 'ost' | 'basePath' | 'dataTypes' | 'maintenanceMode'>
  >;
  /** Wait before restarting a failed mode. @default 1000 */
  retryMs?: number;
  /** How often the object storage is probed for `GET /health` (component `storage`). @default 5000 */
  storageProbeIntervalMs?: number;
}

/** Options of {@link Configstore.start}. */
export interface ConfigstoreStartOptions {
  /**
   * Resolve once a mode is served (in normal mode: the readdb caught up). With `false`,
   * resolve as soon as the port listens (`GET /health` answers, the API answers 503 until
   * ready). @default true
   */
  waitReady?: boolean;
}

/** A configstore service, created stopped. */
export interface Configstore {
  /**
   * Starts the service. The port listens at once (`GET /health` answers in every state);
   * resolves once its API is served (after the readdb caught up), or once the port listens
   * with `{ waitReady: false }`.
   */
  start(options?: ConfigstoreStartOptions): Promise<void>;
  /** Stops the service and closes what it opened. */
  stop(): Promise<void>;
  /** The port it listens on (once started). */
  readonly port: number | undefined;
  /** The API base URL (`http://host:port/api/v1alpha`, once started). */
  readonly url: string | undefined;
  /** The fastify instance of the current mode (it changes with the maintenance mode). */
  readonly app: FastifyInstance | undefined;
  /** The service's health, as `GET /health` reports it. */
  readonly health: ServiceHealth;
}

/**
 * Creates a configstore: a datamanager (`configdata/` in the object storage, etcd prefix
 * `configstore/`), a sqlite readdb in `dataDir` following it, and the HTTP API under
 * `/api/v1alpha`. It follows the maintenance key: in maintenance mode only `/maintenance`,
 * `/export` and `/import` answer.
 *
 * @example
 * ```ts
 * const cs = createConfigstore(serviceSection(config, 'configstore', dataServiceSchema), { logger });
 * await cs.start();
 * // ...
 * await cs.stop();
 * ```
 */
export function createConfigstore(
  config: ConfigstoreConfig | DataServiceConfig,
  deps: ConfigstoreDeps = {},
): Configstore {
  // DataServiceConfig's inferred type also admits the schema's issue shape for `web` and
  // `etcd` (a checked config never holds it): read the fields defensively
  const web = config.web as { listen?: HostPort };
  const etcdConfig = config.etcd as { endpoints?: string[] };
  const logger = deps.logger ?? pino({ level: 'silent' });
  const health = createServiceHealth();
  let service: Promise<RunningDataService> | undefined;
  let running: RunningDataService | undefined;

  const newDataManager = (etcdClient: EtcdClient, ost: ObjectStorage, maintenance: boolean) =>
    createDataManager({
      ...deps.dataManager,
      etcd: etcdClient,
      ost,
      basePath: CONFIGSTORE_BASE_PATH,
      dataTypes: DATA_TYPES,
      logger: logger.child({ component: 'datamanager' }),
      maintenanceMode: maintenance,
    });

  const routes = (etcdClient: EtcdClient, ost: ObjectStorage) => {
    const normal: ServiceRoutes = async (api, ctx) => {
      const dm = newDataManager(etcdClient, ost, false);
      const follow = new AbortController();
      let following: Promise<void> | undefined;
      let db: Db | undefined;
      const syncWatch = setInterval(() => reportStorageSync(ctx.health, dm), 1000);
      syncWatch.unref();
      const close = async () => {
        clearInterval(syncWatch);
        follow.abort();
        await following?.catch(() => undefined);
        ctx.health.report('follower', undefined);
        ctx.health.report('storage-sync', undefined);
        await dm.stop();
        await db?.close();
      };
      try {
        await dm.start();
        db = await openDb(await prepareReadDbFile(config.dataDir, READDB_FILE), {
          synchronous: 'normal',
          readConnections: READ_CONNECTIONS,
          logger,
        });
        await migrateReadDb(db);
        const sqliteSink = createSqliteSink({
          db,
          apply: applyAction,
          applyBatch: applyActions,
          reset: resetReadDb,
        });
        await sqliteSink.init();
        const store = new Store(db, decodingSink(sqliteSink), dm);
        // serve only once the readdb caught up: answers never come from a stale readdb; until
        // then the service answers 503 and GET /health says why
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new Error('stopped before the readdb caught up'));
          if (ctx.signal.aborted) onAbort();
          ctx.signal.addEventListener('abort', onAbort, { once: true });
          following = dm.follow(store.sink, {
            signal: follow.signal,
            onCaughtUp: (position) => {
              store.markApplied(position.walSequence);
              ctx.signal.removeEventListener('abort', onAbort);
              resolve();
            },
            onResync: (reason) => logger.info({ reason }, 'configstore readdb: full resync'),
            onStatus: (status) => reportFollower(ctx.health, status),
            onWalsLost: (lost) => reportWalsLost(ctx.health, lost),
          });
          // a follower that stopped (an entry the readdb cannot apply) was logged and
          // reported to health; the mode stays up with /health saying why
          following.catch(() => undefined);
        });
        registerUserRoutes(api, store);
        registerOrgRoutes(api, store);
        registerRemoteSourceRoutes(api, store);
        registerProjectGroupRoutes(api, store);
        registerProjectRoutes(api, store);
        registerSecretRoutes(api, store);
        await api.register(maintenanceRoutes, { etcd: etcdClient, data: dm, mode: ctx.mode });
        api.addHook('onClose', close);
      } catch (err) {
        await close();
        throw err;
      }
    };
    const maintenance: ServiceRoutes = async (api, ctx) => {
      const dm: DataManager = newDataManager(etcdClient, ost, true);
      await dm.start();
      await api.register(maintenanceRoutes, { etcd: etcdClient, data: dm, mode: ctx.mode });
      api.addHook('onClose', () => dm.stop());
    };
    return { normal, maintenance };
  };

  return {
    get port() {
      return running?.port;
    },
    get url() {
      const port = running?.port;
      if (port === undefined) return undefined;
      const host = web.listen?.host ?? '127.0.0.1';
      const h =
        host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return `http://${h}:${port}${API_PREFIX}`;
    },
    get app() {
      return running?.app;
    },
    health,
    async start(startOptions: ConfigstoreStartOptions = {}) {
      if (service) {
        await service;
        return;
      }
      const listen = web.listen;
      if (!listen)
        throw newError('configstore config: web.listen is missing (set web.listenAddress)');
      service = startDataService({
        name: 'configstore',
        listen,
        ...(deps.etcd ? { etcd: deps.etcd } : {}),
        etcdEndpoints: etcdConfig.endpoints ?? ['http://127.0.0.1:2379'],
        etcdPrefix: CONFIGSTORE_ETCD_PREFIX,
        ...(deps.ost ? { ost: deps.ost } : {}),
        objectStorage: config.objectStorage,
        storageBasePath: CONFIGSTORE_BASE_PATH,
        routes,
        health,
        logger,
        ...(deps.retryMs !== undefined ? { retryMs: deps.retryMs } : {}),
        ...(deps.storageProbeIntervalMs !== undefined
          ? { storageProbeIntervalMs: deps.storageProbeIntervalMs }
          : {}),
        resolveOnServerListening: startOptions.waitReady === false,
      });
      try {
        running = await service;
      } catch (err) {
        service = undefined;
        throw err;
      }
    },
    async stop() {
      const s = service;
      service = undefined;
      running = undefined;
      const r = await s?.catch(() => undefined);
      await r?.stop();
    },
  };
}

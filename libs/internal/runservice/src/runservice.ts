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
  boolean,
  duration,
  etcdSchema,
  maintenanceRoutes,
  object,
  objectStorageSchema,
  optional,
  startDataService,
  type RunningDataService,
  string,
  webSchema,
  type HostPort,
  type Infer,
  type ServiceLogger,
  type ServiceRoutes,
  prepareReadDbFile,
  createServiceHealth,
  reportFollower,
  reportStorageSync,
  reportWalsLost,
  type ServiceHealth,
} from '@agola-ts/service-kit';
import { registerArtifactRoutes } from './artifact-routes.js';
import {
  DEFAULT_EXPIRE_MS,
  DEFAULT_INTERVALS,
  Engine,
  type EngineSettings,
  type RunserviceIntervals,
} from './engine.js';
import { registerExecutorRoutes } from './executor-routes.js';
import {
  DATA_TYPES,
  applyAction,
  applyActions,
  decodingSink,
  migrateReadDb,
  resetReadDb,
} from './readdb.js';
import { registerRunRoutes } from './runs-routes.js';
import { Store } from './store.js';

/** The etcd prefix of the runservice's keys. */
export const RUNSERVICE_ETCD_PREFIX = 'runservice/';
/** Where in the object storage the runservice's datamanager keeps its data. */
export const RUNSERVICE_BASE_PATH = 'rundata';
/** The readdb file, inside the data dir. */
export const READDB_FILE = 'readdb.sqlite';

/**
 * The `runservice` section of the config file: the data service keys plus Agola's
 * `runCacheExpireInterval` and `runWorkspaceExpireInterval` (7 days by default) and
 * `pushDispatch` (an Agola-TS key: false moves runs with the loops only, as Agola).
 */
export const runserviceSchema = object({
  debug: optional(boolean(), false),
  dataDir: string(),
  web: webSchema,
  etcd: optional(etcdSchema, { endpoints: ['http://127.0.0.1:2379'], tlsSkipVerify: false }),
  objectStorage: objectStorageSchema,
  runCacheExpireInterval: optional(duration(), DEFAULT_EXPIRE_MS),
  runWorkspaceExpireInterval: optional(duration(), DEFAULT_EXPIRE_MS),
  pushDispatch: optional(boolean(), true),
});

/** A checked {@link runserviceSchema} section. */
export type RunserviceSection = Infer<typeof runserviceSchema>;

/** The runservice's config (a checked `runservice` section fits). */
export interface RunserviceConfig {
  /** Holds the readdb (a sqlite file that can always be rebuilt). */
  dataDir: string;
  /** Where to listen. */
  web: { listen: HostPort };
  /** etcd endpoints (the runservice uses the prefix `runservice/`). */
  etcd: { endpoints: string[] };
  /** The object storage: `rundata/` for the datamanager, logs, archives and caches at the root. */
  objectStorage: ObjectStorageConfig;
  /** How long caches are kept (ms). @default 7 days */
  runCacheExpireInterval?: number;
  /** How long workspace archives are kept (ms). @default 7 days */
  runWorkspaceExpireInterval?: number;
  /** Drive runs from events; false: loops only, as Agola. @default true */
  pushDispatch?: boolean;
}

/** What the runservice is given besides its config (all optional). */
export interface RunserviceDeps {
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
  /** Loop periods (Agola's by default), mostly for tests. */
  intervals?: Partial<RunserviceIntervals>;
  /** Wait before restarting a failed mode. @default 1000 */
  retryMs?: number;
  /** The fetch used to talk to executors. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

/** A runservice, created stopped. */
export interface Runservice {
  /** Starts the service; resolves once its API listens (after the readdb caught up). */
  start(): Promise<void>;
  /** Stops the service and closes what it opened. */
  stop(): Promise<void>;
  /** The port it listens on (once started). */
  readonly port: number | undefined;
  /** The API base URL (`http://host:port/api/v1alpha`, once started). */
  readonly url: string | undefined;
  /** The fastify instance of the current mode. */
  readonly app: FastifyInstance | undefined;
  /** The scheduling engine of the current normal mode (tests, bench). */
  readonly engine: Engine | undefined;
  /** The service's health, as `GET /health` reports it. */
  readonly health: ServiceHealth;
}

/**
 * Creates a runservice: a datamanager (`rundata/` in the object storage, etcd prefix
 * `runservice/`) with a sqlite readdb in `dataDir`, active runs, executors and executor tasks
 * in etcd, the scheduling engine (push dispatch plus Agola's loops) and the HTTP API under
 * `/api/v1alpha`. In maintenance mode only `/maintenance`, `/export` and `/import` answer.
 *
 * @example
 * ```ts
 * const rs = createRunservice(serviceSection(config, 'runservice', runserviceSchema), { logger });
 * await rs.start();
 * // ...
 * await rs.stop();
 * ```
 */
export function createRunservice(
  config: RunserviceConfig | RunserviceSection,
  deps: RunserviceDeps = {},
): Runservice {
  const web = config.web as { listen?: HostPort };
  const etcdConfig = config.etcd as { endpoints?: string[] };
  const logger = deps.logger ?? pino({ level: 'silent' });
  const settings: EngineSettings = {
    pushDispatch: config.pushDispatch ?? true,
    intervals: { ...DEFAULT_INTERVALS, ...deps.intervals },
    cacheExpireMs: config.runCacheExpireInterval ?? DEFAULT_EXPIRE_MS,
    workspaceExpireMs: config.runWorkspaceExpireInterval ?? DEFAULT_EXPIRE_MS,
    executorRequestTimeoutMs: 10_000,
  };
  const health = createServiceHealth();
  let service: Promise<RunningDataService> | undefined;
  let running: RunningDataService | undefined;
  let engine: Engine | undefined;

  const newDataManager = (etcdClient: EtcdClient, ost: ObjectStorage, maintenance: boolean) =>
    createDataManager({
      ...deps.dataManager,
      etcd: etcdClient,
      ost,
      basePath: RUNSERVICE_BASE_PATH,
      dataTypes: DATA_TYPES,
      logger: logger.child({ component: 'datamanager' }),
      maintenanceMode: maintenance,
    });

  /**
   * Answers that complete after the mode ended close their connection: the server's close
   * drops only the connections idle at that moment, and a keep-alive connection of a request
   * still in flight would otherwise hold the close (and the service stop) for fastify's 72 s
   * keep-alive timeout.
   */
  const closeWhenDone = (api: FastifyInstance, signal: AbortSignal) => {
    api.addHook('onSend', async (_req, reply, payload) => {
      if (signal.aborted) void reply.header('connection', 'close');
      return payload;
    });
  };

  const routes = (etcdClient: EtcdClient, ost: ObjectStorage) => {
    const normal: ServiceRoutes = async (api, ctx) => {
      closeWhenDone(api, ctx.signal);
      const dm = newDataManager(etcdClient, ost, false);
      const follow = new AbortController();
      let following: Promise<void> | undefined;
      let db: Db | undefined;
      let eng: Engine | undefined;
      const syncWatch = setInterval(() => reportStorageSync(ctx.health, dm), 1000);
      syncWatch.unref();
      const close = async () => {
        clearInterval(syncWatch);
        ctx.health.report('follower', undefined);
        ctx.health.report('storage-sync', undefined);
        follow.abort();
        await eng?.stop();
        if (engine === eng) engine = undefined;
        await following?.catch(() => undefined);
        await dm.stop();
        await db?.close();
      };
      try {
        await dm.start();
        db = await openDb(await prepareReadDbFile(config.dataDir, READDB_FILE), {
          synchronous: 'normal',
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
            onResync: (reason) => logger.info({ reason }, 'runservice readdb: full resync'),
            onStatus: (status) => reportFollower(ctx.health, status),
            onWalsLost: (lost) => reportWalsLost(ctx.health, lost),
          });
          // a follower that stopped (an entry the readdb cannot apply) was logged and
          // reported to health; the mode stays up with /health saying why
          following.catch(() => undefined);
        });
        eng = new Engine(
          {
            etcd: etcdClient,
            ost,
            store,
            logger: logger.child({ component: 'scheduler' }),
            ...(deps.fetch ? { fetch: deps.fetch } : {}),
          },
          settings,
        );
        // long-lived answers (run events, followed logs) end when the mode ends, so the
        // server can close
        const stopSignal = AbortSignal.any([follow.signal, ctx.signal]);
        registerRunRoutes(api, eng, store);
        registerExecutorRoutes(api, eng);
        registerArtifactRoutes(api, eng, store, ost);
        await api.register(maintenanceRoutes, { etcd: etcdClient, data: dm, mode: ctx.mode });
        api.addHook('onClose', close);
        await eng.start(stopSignal);
        engine = eng;
      } catch (err) {
        await close();
        throw err;
      }
    };
    const maintenance: ServiceRoutes = async (api, ctx) => {
      closeWhenDone(api, ctx.signal);
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
    get engine() {
      return engine;
    },
    health,
    async start() {
      if (service) {
        await service;
        return;
      }
      const listen = web.listen;
      if (!listen) {
        throw newError('runservice config: web.listen is missing (set web.listenAddress)');
      }
      service = startDataService({
        name: 'runservice',
        listen,
        ...(deps.etcd ? { etcd: deps.etcd } : {}),
        etcdEndpoints: etcdConfig.endpoints ?? ['http://127.0.0.1:2379'],
        etcdPrefix: RUNSERVICE_ETCD_PREFIX,
        ...(deps.ost ? { ost: deps.ost } : {}),
        objectStorage: config.objectStorage,
        storageBasePath: RUNSERVICE_BASE_PATH,
        routes,
        health,
        logger,
        ...(deps.retryMs !== undefined ? { retryMs: deps.retryMs } : {}),
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

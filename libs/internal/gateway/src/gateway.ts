import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { newError, wrap } from '@agola-ts/errors';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  API_PREFIX,
  createServiceHealth,
  createServiceServer,
  DEFAULT_BODY_LIMIT,
  HEALTH_PATH,
  listenWithRetry,
  sendHealth,
  type ServiceHealth,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import { registerAuth, type RequestAuth } from './auth.js';
import { GatewayErrorCodes } from './codes.js';
import {
  DEFAULT_AGOLA_ID,
  DEFAULT_TOKEN_DURATION_MS,
  type GatewayConfig,
  type TokenSigningConfig,
} from './config.js';
import {
  DEFAULT_READ_CACHE_SETTINGS,
  type GatewayContext,
  type ReadCacheSettings,
} from './context.js';
import { registerCors } from './cors.js';
import { createReadCache } from './read-cache.js';
import { createJwtSigner, type JwtSigner } from './jwt.js';
import { registerApiBodyHandling } from './body.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerMaintenanceRoutes } from './routes/maintenance.js';
import { registerOrgRoutes } from './routes/orgs.js';
import { registerProjectGroupRoutes } from './routes/project-groups.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerRemoteSourceRoutes } from './routes/remote-sources.js';
import { registerSecretRoutes } from './routes/secrets.js';
import { registerUserRoutes } from './routes/users.js';
import { registerVersionRoutes } from './routes/version.js';
import { registerRunRoutes } from './runs/run-routes.js';
import {
  createRunEventsHub,
  DEFAULT_RUN_EVENTS_SETTINGS,
  registerRunEventsRoute,
  type RunEventsHub,
  type RunEventsSettings,
  type RunEventsStats,
} from './runs/run-events.js';
import { registerWebhookRoutes } from './webhooks/webhook-routes.js';
import { registerReposProxy } from './repos-proxy.js';
import { loadWebBundle } from './web-bundle.js';

/** Most entries the read cache keeps. */
const READ_CACHE_ENTRIES = 5000;

/** How long a stop waits for the requests being answered before closing their connections. */
const STOP_GRACE_MS = 3000;

/** What the gateway is given besides its config (all optional). */
export interface GatewayDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
  /** A configstore client to use instead of one built from `configstoreURL`. */
  configstore?: ConfigstoreClient;
  /** A runservice client to use instead of one built from `runserviceURL`. */
  runservice?: RunserviceClient;
  /** RSA size of the project deploy keys (tests use 2048 to go faster). @default 4096 */
  deployKeyBits?: number;
  /** The read cache's lifetimes (see {@link ReadCacheSettings}); 0 keeps nothing. */
  readCache?: Partial<ReadCacheSettings>;
  /** Settings of `GET /runs/events` (keep-alive, slow client buffer, reconnect backoff). */
  runEvents?: Partial<RunEventsSettings>;
}

/** A gateway service, created stopped. */
export interface Gateway {
  /** Reads the signing keys, builds the routes and listens. */
  start(): Promise<void>;
  /** Stops listening and closes open connections. */
  stop(): Promise<void>;
  /** The port it listens on (once started). */
  readonly port: number | undefined;
  /** The API base URL (`http://host:port/api/v1alpha`, once started). */
  readonly url: string | undefined;
  /** The fastify instance (once started). */
  readonly app: FastifyInstance | undefined;
  /** The service's health, as `GET /health` reports it. */
  readonly health: ServiceHealth;
  /** Counters of the run events stream (its one upstream runservice connection, its clients). */
  readonly runEvents: RunEventsStats;
}

async function signerOf(signing: TokenSigningConfig): Promise<JwtSigner> {
  switch (signing.method) {
    case 'hmac':
      if (!signing.key) {
        throw newError('tokenSigning.key is required with method hmac', {
          code: GatewayErrorCodes.InvalidConfig,
        });
      }
      return createJwtSigner({ alg: 'HS256', key: signing.key });
    case 'rsa': {
      try {
        const [privateKey, publicKey] = await Promise.all([
          readFile(signing.privateKeyPath, 'utf8'),
          readFile(signing.publicKeyPath, 'utf8'),
        ]);
        return createJwtSigner({ alg: 'RS256', privateKey, publicKey });
      } catch (err) {
        throw wrap(err, 'reading the token signing keys', {
          code: GatewayErrorCodes.InvalidConfig,
        });
      }
    }
    default: {
      const never: never = signing;
      throw newError(
        `unknown tokenSigning.method ${JSON.stringify((never as { method?: unknown }).method)}`,
        { code: GatewayErrorCodes.InvalidConfig },
      );
    }
  }
}

function apiBase(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end--;
  return `${url.slice(0, end)}${API_PREFIX}`;
}

/**
 * Creates the gateway: Agola's public API under `/api/v1alpha` (authentication, permissions,
 * the entity routes proxied to the configstore, runs from the runservice, webhooks), with
 * `GET /health`. It keeps no state of its own: the configstore and the runservice hold it.
 *
 * @example
 * ```ts
 * const gw = createGateway({
 *   apiExposedURL: 'http://localhost:8000', webExposedURL: 'http://localhost:8000',
 *   configstoreURL: 'http://127.0.0.1:4002', runserviceURL: 'http://127.0.0.1:4000',
 *   web: { listen: { host: '0.0.0.0', port: 8000 } },
 *   tokenSigning: { method: 'hmac', key: process.env.AGOLA_TOKEN_KEY! },
 *   adminToken: process.env.AGOLA_ADMIN_TOKEN,
 * }, { logger });
 * await gw.start();
 * ```
 */
export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const health = createServiceHealth();
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  let hub: RunEventsHub | undefined;
  const runEventsSettings = { ...DEFAULT_RUN_EVENTS_SETTINGS, ...deps.runEvents };

  const start = async () => {
    if (app) return;
    const jwt = await signerOf(config.tokenSigning);
    const webBundle = config.web.bundlePath
      ? await loadWebBundle({ bundlePath: config.web.bundlePath, apiURL: config.apiExposedURL })
      : undefined;
    const ctx: GatewayContext = {
      config,
      agolaId: config.id ?? DEFAULT_AGOLA_ID,
      configstore:
        deps.configstore ?? createConfigstoreClient({ baseUrl: apiBase(config.configstoreURL) }),
      runservice:
        deps.runservice ?? createRunserviceClient({ baseUrl: apiBase(config.runserviceURL) }),
      logger,
      jwt,
      tokenDurationMs: config.tokenSigning.durationMs ?? DEFAULT_TOKEN_DURATION_MS,
      cache: createReadCache({ maxEntries: READ_CACHE_ENTRIES }),
      cacheSettings: { ...DEFAULT_READ_CACHE_SETTINGS, ...deps.readCache },
    };
    const events = createRunEventsHub({
      runservice: ctx.runservice,
      logger,
      settings: runEventsSettings,
    });
    hub = events;
    const build = async () => {
      const server = createServiceServer({
        logger,
        name: 'gateway',
        bodyLimit: DEFAULT_BODY_LIMIT,
      });
      // anonymous until the API scope's authentication hook sets it (a getter alone would
      // make that assignment throw)
      const authOf = new WeakMap<object, RequestAuth>();
      server.decorateRequest('auth', {
        getter(this: object) {
          return authOf.get(this) ?? { isAdmin: false };
        },
        setter(this: object, value: RequestAuth) {
          authOf.set(this, value);
        },
      });
      server.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, health.snapshot()));
      registerCors(server, config.web.allowedOrigins ?? []);
      await server.register(
        async (api) => {
          registerApiBodyHandling(api);
          // a write through this gateway drops every kept read before it is answered, so the
          // caller's next read sees it
          api.addHook('onSend', async (req, _reply, payload) => {
            if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS')
              ctx.cache.clear();
            return payload;
          });
          registerAuth(api, ctx);
          registerVersionRoutes(api, ctx);
          registerAuthRoutes(api, ctx);
          registerUserRoutes(api, ctx);
          registerOrgRoutes(api, ctx);
          registerRemoteSourceRoutes(api, ctx);
          registerProjectGroupRoutes(api, ctx);
          registerProjectRoutes(api, ctx, {
            ...(deps.deployKeyBits !== undefined ? { deployKeyBits: deps.deployKeyBits } : {}),
          });
          registerSecretRoutes(api, ctx);
          registerRunRoutes(api, ctx);
          registerRunEventsRoute(api, ctx, events, runEventsSettings);
          await registerMaintenanceRoutes(api, ctx);
        },
        { prefix: API_PREFIX },
      );
      // outside the API prefix: the forges' webhook deliveries
      registerWebhookRoutes(server, ctx);
      // outside the API prefix: git over HTTP to the git server (its own body handling)
      await server.register(async (repos) => registerReposProxy(repos, ctx));
      // the web UI at `/` (its pages are every path the routes above leave)
      webBundle?.register(server);
      return server;
    };
    const listening = await listenWithRetry(build, config.web.listen, {
      signal: new AbortController().signal,
    });
    health.mode = 'normal';
    const server = listening.app;
    port = listening.port;
    app = server;
    logger.info({ port }, 'gateway listening');
  };

  return {
    start,
    async stop() {
      const a = app;
      app = undefined;
      port = undefined;
      // the event streams never end by themselves: end them now
      hub?.close();
      if (a) {
        // keep-alive and half-sent requests must not hold the stop: after a grace period
        // every connection is closed
        const timer = setTimeout(() => a.server.closeAllConnections(), STOP_GRACE_MS);
        try {
          await a.close();
        } finally {
          clearTimeout(timer);
        }
      }
    },
    get port() {
      return port;
    },
    get url() {
      return port === undefined
        ? undefined
        : `http://${hostForUrl(config.web.listen.host)}:${port}${API_PREFIX}`;
    },
    get app() {
      return app;
    },
    health,
    get runEvents() {
      return hub?.stats ?? { upstreamConnects: 0, connected: false, subscribers: 0 };
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

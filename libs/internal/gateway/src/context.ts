import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type { ServiceLogger } from '@agola-ts/service-kit';
import type { GatewayConfig } from './config.js';
import type { JwtSigner } from './jwt.js';
import type { ReadCache } from './read-cache.js';

/**
 * How long the gateway keeps downstream reads (ms). Identical lookups in flight at once
 * always share one downstream request; these say how long a result is reused afterwards.
 * Every write through this gateway (any non-GET API request) drops them all; another
 * gateway's writes show here after at most these times.
 */
export interface ReadCacheSettings {
  /**
   * For `GET` requests: the user of an API token or login JWT, the caller's orgs, and the
   * projects and users the run routes check (the permission lookups of a run page). Writes
   * always read them afresh. @default 1000
   */
  permissionsTtlMs: number;
  /** Archived runs (immutable) by group and number. @default 30000 */
  archivedRunTtlMs: number;
}

/** The default {@link ReadCacheSettings}. */
export const DEFAULT_READ_CACHE_SETTINGS: ReadCacheSettings = {
  permissionsTtlMs: 1000,
  archivedRunTtlMs: 30_000,
};

/**
 * What every route module of the gateway gets: `register*Routes(api, ctx)`.
 *
 * - `config`: the gateway config as given (`apiExposedURL`, `webExposedURL`, ...).
 * - `agolaId`: the installation id (`config.id`, default `agola`): the forge token name is
 *   `agola-<agolaId>`, webhooks carry `agolaid=<agolaId>`.
 * - `configstore`, `runservice`: typed clients of the downstream services. Their errors are
 *   `RemoteError`s: pass them to {@link passThrough} (src/downstream.ts) to answer with the
 *   downstream status, code and message.
 * - `logger`: the gateway's logger (never log tokens, secrets or raw URLs).
 * - `jwt`, `tokenDurationMs`: signs login JWTs and OAuth2 states.
 * - `cache`, `cacheSettings`: the read cache of downstream lookups ({@link ReadCacheSettings}).
 *
 * Authentication is done before any route runs: `req.auth` (src/auth.ts) holds the caller;
 * `requireUser(req)` / `requireAdmin(req)` throw 401 / 403. Permission checks are in
 * src/permissions.ts (`canGetProject`, `canDoRunActions`, `loadProject`, ...).
 */
export interface GatewayContext {
  config: GatewayConfig;
  agolaId: string;
  configstore: ConfigstoreClient;
  runservice: RunserviceClient;
  logger: ServiceLogger;
  jwt: JwtSigner;
  tokenDurationMs: number;
  cache: ReadCache;
  cacheSettings: ReadCacheSettings;
}

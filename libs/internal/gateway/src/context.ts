import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type { ServiceLogger } from '@agola-ts/service-kit';
import type { GatewayConfig } from './config.js';
import type { JwtSigner } from './jwt.js';

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
}

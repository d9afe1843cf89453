import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '@agola-ts/errors';
import type { User } from '@agola-ts/types';
import { GatewayErrorCodes } from './codes.js';
import type { GatewayContext } from './context.js';
import { isRemoteNotExist } from './downstream.js';

/** Who is calling: a user (from a user token or a login JWT), the admin token, or nobody. */
export interface RequestAuth {
  /** The logged-in user, as the configstore has it (`undefined`: anonymous or admin token). */
  user?: User;
  /** True for the admin token and for users flagged admin. */
  isAdmin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the gateway's authentication hook before any route runs. */
    auth: RequestAuth;
  }
}

/** A credential as sent: `Authorization: token X` or `?access_token=X`, or `Authorization: bearer JWT`. */
export type Credential = { kind: 'token'; value: string } | { kind: 'bearer'; value: string };

/** Longest credential considered (a longer one is refused before any lookup). */
const MAX_CREDENTIAL_LENGTH = 8192;

/**
 * The credential of a request: `Authorization: token <t>` or `bearer <jwt>` (prefixes
 * case-insensitive, as Agola matches them), else the `access_token` query parameter (a token).
 */
export function credentialOf(req: FastifyRequest): Credential | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'token') return { kind: 'token', value };
    if (scheme === 'bearer') return { kind: 'bearer', value };
  }
  const query = req.query as Record<string, unknown> | undefined;
  const qt = query && Object.hasOwn(query, 'access_token') ? query['access_token'] : undefined;
  if (typeof qt === 'string' && qt !== '') return { kind: 'token', value: qt };
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How long the user of a credential may be reused: `GET` requests only, `permissionsTtlMs`. */
const authTtl = (ctx: GatewayContext, req: FastifyRequest) =>
  req.method === 'GET' ? ctx.cacheSettings.permissionsTtlMs : 0;

const invalid = (what: string) =>
  unauthorized(`invalid ${what}`, { code: GatewayErrorCodes.InvalidToken, callerOf: authenticate });

/**
 * Finds who sent `req`. No credential: anonymous. A credential that does not resolve
 * (unknown user token, bad or expired JWT, a JWT of a deleted user) is a 401, on every
 * route, as in Agola. User tokens are always checked (Agola v0.7.1 checks them only when an
 * admin token is configured).
 *
 * @throws `ApiError` 401 `ERR_GATEWAY_INVALID_TOKEN`.
 */
export async function authenticate(ctx: GatewayContext, req: FastifyRequest): Promise<RequestAuth> {
  const cred = credentialOf(req);
  if (!cred) return { isAdmin: false };
  if (cred.value === '' || cred.value.length > MAX_CREDENTIAL_LENGTH) throw invalid('credentials');
  if (cred.kind === 'token') {
    const admin = ctx.config.adminToken;
    if (admin !== undefined && admin !== '' && sameSecret(cred.value, admin)) {
      return { isAdmin: true };
    }
    let user: User;
    try {
      // identical lookups in flight share one request; kept briefly for GET requests only
      const token = cred.value;
      user = await ctx.cache.get(
        `auth-token:${token}`,
        () => ctx.configstore.getUserByQuery({ query_type: 'bytoken', token }),
        () => authTtl(ctx, req),
        { reuseKept: req.method === 'GET' },
      );
    } catch (err) {
      if (isRemoteNotExist(err)) throw invalid('token');
      throw err;
    }
    return { user, isAdmin: user.admin === true };
  }
  const claims = ctx.jwt.verify(cred.value);
  const sub = claims?.['sub'];
  if (typeof sub !== 'string' || sub === '') throw invalid('login token');
  let user: User;
  try {
    user = await ctx.cache.get(
      `auth-user:${sub}`,
      () => ctx.configstore.getUser(sub),
      () => authTtl(ctx, req),
      { reuseKept: req.method === 'GET' },
    );
  } catch (err) {
    if (isRemoteNotExist(err)) throw invalid('login token');
    throw err;
  }
  // a token for one user id never resolves to another user named like that id
  if (user.id !== sub) throw invalid('login token');
  return { user, isAdmin: user.admin === true };
}

/**
 * Adds the authentication hook to `api` (an encapsulated scope, usually the `/api/v1alpha`
 * one): every request of its routes gets `req.auth` before its handler runs.
 */
export function registerAuth(api: FastifyInstance, ctx: GatewayContext): void {
  api.addHook('onRequest', async (req) => {
    req.auth = await authenticate(ctx, req);
  });
}

/**
 * The logged-in user of `req` (auth forced).
 *
 * @throws `ApiError` 401 `ERR_GATEWAY_UNAUTHENTICATED` for anonymous callers and for the admin token (it is no user).
 */
export function requireUser(req: FastifyRequest): User {
  const user = req.auth.user;
  if (!user) {
    throw unauthorized('user not authenticated', {
      code: GatewayErrorCodes.Unauthenticated,
      callerOf: requireUser,
    });
  }
  return user;
}

/**
 * Requires an authenticated caller: a user or the admin token (Agola's "auth forced" routes).
 *
 * @throws `ApiError` 401 `ERR_GATEWAY_UNAUTHENTICATED`.
 */
export function requireAuth(req: FastifyRequest): RequestAuth {
  if (!req.auth.user && !req.auth.isAdmin) {
    throw unauthorized('user not authenticated', {
      code: GatewayErrorCodes.Unauthenticated,
      callerOf: requireAuth,
    });
  }
  return req.auth;
}

/**
 * Requires the admin token or an admin user.
 *
 * @throws `ApiError` 401 for anonymous callers, 403 `ERR_GATEWAY_FORBIDDEN` for non-admin users.
 */
export function requireAdmin(req: FastifyRequest): void {
  requireAuth(req);
  if (!req.auth.isAdmin) {
    throw forbidden('user not authorized: admin required', {
      code: GatewayErrorCodes.Forbidden,
      callerOf: requireAdmin,
    });
  }
}

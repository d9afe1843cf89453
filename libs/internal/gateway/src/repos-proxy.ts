import { timingSafeEqual } from 'node:crypto';
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorResponse } from '@agola-ts/service-kit';
import { badRequest, forbidden, unauthorized } from '@agola-ts/errors';
import type { User } from '@agola-ts/types';
import { credentialOf } from './auth.js';
import { GatewayErrorCodes } from './codes.js';
import type { GatewayContext } from './context.js';
import { isRemoteNotExist } from './downstream.js';

/** The JWT claim of a clone token: the repository path (`<userID>/<uuid>`) it may read. */
export const CLONE_TOKEN_REPO_CLAIM = 'agola_git_read';

/** How long a clone token (in a direct run's clone URL) is valid: 24 hours. */
export const CLONE_TOKEN_DURATION_MS = 24 * 60 * 60 * 1000;

/** The user name of the clone URL's credentials (any name works; this one says what it is). */
export const CLONE_TOKEN_USER = 'agola-clone';

/** The realm sent in `WWW-Authenticate` (git then asks its credential helpers). */
const REALM = 'Basic realm="Agola", charset="UTF-8"';

/** Longest credential considered. */
const MAX_CREDENTIAL_LENGTH = 8192;

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded, in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Who pushes or fetches through `/repos`. */
interface GitCaller {
  user?: User;
  isAdmin: boolean;
  /** A clone token: the only repository path (`<userID>/<uuid>`) it may read. */
  readRepo?: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const invalidCredentials = () =>
  unauthorized('invalid credentials', {
    code: GatewayErrorCodes.InvalidToken,
    callerOf: invalidCredentials,
  });

/**
 * A signed, short-lived token that lets a direct run's clone step read (only read, only) the
 * repository `repoPath` (`<userID>/<uuid>`) through `/repos`. It has no `sub`, so the API
 * refuses it as a login token.
 */
export function signCloneToken(ctx: GatewayContext, repoPath: string, nowMs = Date.now()): string {
  return ctx.jwt.sign({
    [CLONE_TOKEN_REPO_CLAIM]: repoPath,
    exp: Math.floor((nowMs + CLONE_TOKEN_DURATION_MS) / 1000),
  });
}

/**
 * `cloneURL` (`http://host/repos/<path>.git`) with a clone token for `repoPath` as its
 * password: what the clone step of a user direct run clones from.
 */
export function cloneURLWithToken(ctx: GatewayContext, cloneURL: string, repoPath: string): string {
  const u = new URL(cloneURL);
  u.username = CLONE_TOKEN_USER;
  u.password = signCloneToken(ctx, repoPath);
  return u.toString();
}

async function userOfToken(ctx: GatewayContext, token: string): Promise<GitCaller> {
  const admin = ctx.config.adminToken;
  if (admin !== undefined && admin !== '' && sameSecret(token, admin)) return { isAdmin: true };
  try {
    const user = await ctx.configstore.getUserByQuery({ query_type: 'bytoken', token });
    return { user, isAdmin: user.admin === true };
  } catch (err) {
    if (isRemoteNotExist(err)) throw invalidCredentials();
    throw err;
  }
}

async function callerOfJwt(ctx: GatewayContext, token: string): Promise<GitCaller | undefined> {
  const claims = ctx.jwt.verify(token);
  if (!claims) return undefined;
  const repo = claims[CLONE_TOKEN_REPO_CLAIM];
  if (typeof repo === 'string' && repo !== '') return { isAdmin: false, readRepo: repo };
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') return undefined;
  try {
    const user = await ctx.configstore.getUser(sub);
    if (user.id !== sub) return undefined;
    return { user, isAdmin: user.admin === true };
  } catch (err) {
    if (isRemoteNotExist(err)) return undefined;
    throw err;
  }
}

/**
 * The caller of a `/repos` request: HTTP basic auth whose password (or, with no password, user
 * name) is a user token, the admin token, a login JWT or a clone token; or
 * `Authorization: token|bearer`, or `?access_token=`. `undefined`: no credentials.
 *
 * @throws `ApiError` 401 `ERR_GATEWAY_INVALID_TOKEN` for credentials that resolve to nobody.
 */
async function gitCallerOf(
  ctx: GatewayContext,
  req: FastifyRequest,
): Promise<GitCaller | undefined> {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const secret = password !== '' ? password : name;
    if (secret === '' || secret.length > MAX_CREDENTIAL_LENGTH) throw invalidCredentials();
    const viaJwt = secret.split('.').length === 3 ? await callerOfJwt(ctx, secret) : undefined;
    return viaJwt ?? (await userOfToken(ctx, secret));
  }
  const cred = credentialOf(req);
  if (!cred) return undefined;
  if (cred.value === '' || cred.value.length > MAX_CREDENTIAL_LENGTH) throw invalidCredentials();
  if (cred.kind === 'token') return userOfToken(ctx, cred.value);
  const caller = await callerOfJwt(ctx, cred.value);
  if (!caller) throw invalidCredentials();
  return caller;
}

/** Whether the request (path after `/repos/`, decoded segments; raw query) only reads. */
function isRead(segs: readonly string[], method: string, query: string): boolean {
  const tail = segs.slice(2);
  if (method === 'GET' && tail[0] === 'info' && tail[1] === 'refs' && tail.length === 2) {
    return new URLSearchParams(query).get('service') === 'git-upload-pack';
  }
  if (method === 'POST' && tail.length === 1 && tail[0] === 'git-upload-pack') return true;
  return method === 'GET' && tail[0] === 'raw';
}

function decodeSegments(rest: string): string[] | undefined {
  try {
    return rest.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/**
 * Checks that the caller may use the repository of a `/repos/<userID>/...` request: the user
 * `<userID>` itself (any of its credentials), the admin (token or admin user), or a clone token
 * of exactly that repository for a read.
 *
 * @throws `ApiError` 401 (no or invalid credentials; the reply gets `WWW-Authenticate`), 403.
 */
async function authorize(
  ctx: GatewayContext,
  req: FastifyRequest,
  segs: readonly string[],
  query: string,
): Promise<void> {
  const caller = await gitCallerOf(ctx, req);
  if (!caller) {
    throw unauthorized('authentication required to use the git repositories', {
      code: GatewayErrorCodes.Unauthenticated,
    });
  }
  if (caller.isAdmin) return;
  const owner = segs[0] ?? '';
  if (caller.user && caller.user.id === owner) return;
  if (caller.readRepo !== undefined) {
    const repo = `${segs[0] ?? ''}/${segs[1] ?? ''}`;
    if (`${caller.readRepo}.git` === repo && isRead(segs, req.method, query)) return;
  }
  throw forbidden('these credentials may not use this repository', {
    code: GatewayErrorCodes.Forbidden,
  });
}

function upstreamHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const dropped = new Set(HOP_BY_HOP);
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const name of connection.split(',')) dropped.add(name.trim().toLowerCase());
  }
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    // the caller's credentials are for the gateway, not the git server
    if (value === undefined || dropped.has(name) || name === 'host' || name === 'authorization') {
      continue;
    }
    out[name] = value;
  }
  return out;
}

function withoutAccessToken(query: string): string {
  return query
    .split('&')
    .filter((p) => p !== '' && p.split('=', 1)[0] !== 'access_token')
    .join('&');
}

function sendJsonError(reply: FastifyReply, status: number, code: string, message: string): void {
  const res = reply.raw;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ code, message }));
}

/**
 * Registers `GET` and `POST /repos/*` (outside the API prefix): the request is proxied to the
 * git server (`gitserverURL`) with the same path (without `/repos`) and query, its body and the
 * answer streamed (no body limit, no parsing), hop-by-hop headers and the caller's
 * `Authorization` dropped. Unlike Agola v0.7 (no auth there), a request for
 * `/repos/<userID>/...` needs the credentials of that user, or the admin token, or a clone token
 * of that repository (reads only; see {@link cloneURLWithToken}): otherwise 401 with
 * `WWW-Authenticate: Basic` (git then asks for credentials) or 403. A git server that cannot be
 * reached is a 502 `ERR_GATEWAY_GITSERVER_UNAVAILABLE`.
 */
export function registerReposProxy(app: FastifyInstance, ctx: GatewayContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = withoutAccessToken(q < 0 ? '' : url.slice(q + 1));
    const rest = path.slice('/repos/'.length);
    const segs = decodeSegments(rest);
    try {
      // the git server refuses these too; refusing them here keeps the owner check honest
      // (`/repos/<me>/../<other>/...` must not reach another user's repository)
      if (
        !segs ||
        segs.length < 2 ||
        segs.some((p) => p === '.' || p === '..') ||
        segs.slice(0, 2).some((p) => p === '' || p.includes('/') || p.includes('\\'))
      ) {
        throw badRequest('invalid repository path', { code: GatewayErrorCodes.InvalidRequest });
      }
      await authorize(ctx, req, segs, query);
    } catch (err) {
      const { status, body } = errorResponse(err, req);
      if (status === 401) void reply.header('www-authenticate', REALM);
      if (status >= 500) req.log.error({ err }, 'repos proxy: authentication failed');
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    }
    const base = ctx.config.gitserverURL;
    if (base === undefined || base === '') {
      return reply.code(502).type('application/json; charset=utf-8').send({
        code: GatewayErrorCodes.GitserverUnavailable,
        message: 'no git server is configured (gitserverURL)',
      });
    }
    const target = new URL(base);
    const basePath = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname;
    reply.hijack();
    const res = reply.raw;
    await new Promise<void>((resolve) => {
      const upstream = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: `${basePath}/${rest}${query ? `?${query}` : ''}`,
        headers: upstreamHeaders(req.headers),
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
        resolve();
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) {
          req.log.warn({ err }, 'repos proxy: the git server cannot be reached');
          sendJsonError(
            reply,
            502,
            GatewayErrorCodes.GitserverUnavailable,
            'the git server cannot be reached',
          );
        } else res.destroy();
        resolve();
      });
      upstream.on('response', (ures) => {
        const headers: OutgoingHttpHeaders = {};
        const dropped = new Set(HOP_BY_HOP);
        for (const [name, value] of Object.entries(ures.headers)) {
          if (value !== undefined && !dropped.has(name)) headers[name] = value;
        }
        res.writeHead(ures.statusCode ?? 502, headers);
        ures.pipe(res);
        ures.on('error', () => res.destroy());
      });
      req.raw.pipe(upstream);
      req.raw.on('error', () => upstream.destroy());
    });
  };
  app.route({ method: ['GET', 'POST'], url: '/repos/*', handler });
}

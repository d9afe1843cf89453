import { createHmac, timingSafeEqual } from 'node:crypto';
import { GitSourceErrorCodes } from './codes.js';
import { GitSourceError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import type { CallOptions, OAuth2Token, ParsedRef, WebhookRequest } from './types.js';

/** Ref prefixes shared by every provider. */
export const BRANCH_REF_PREFIX = 'refs/heads/';
export const TAG_REF_PREFIX = 'refs/tags/';

/** Default request timeout (ms). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options every provider config shares. */
export interface CommonSourceOptions {
  /** Per-request timeout in ms. @default 30000 */
  timeoutMs?: number;
  /** Items per page when listing (capped by each provider's maximum). */
  pageSize?: number;
  /** Accept any TLS certificate (Agola's remote source `skip_verify`). @default false */
  skipVerify?: boolean;
  /** A pino-compatible logger; requests are logged at debug level without headers or query. */
  logger?: import('./types.js').Logger;
}

/** Splits a ref with the provider's pull request ref regex (which captures the id). */
export function parseRef(ref: string, pullRequestRegexes: readonly RegExp[]): ParsedRef {
  if (ref.startsWith(BRANCH_REF_PREFIX))
    return { type: 'branch', name: ref.slice(BRANCH_REF_PREFIX.length) };
  if (ref.startsWith(TAG_REF_PREFIX))
    return { type: 'tag', name: ref.slice(TAG_REF_PREFIX.length) };
  for (const re of pullRequestRegexes) {
    const m = re.exec(ref);
    if (m?.[1]) return { type: 'pull_request', name: m[1] };
  }
  throw new GitSourceError(`unsupported ref ${JSON.stringify(ref.slice(0, 200))}`, {
    code: GitSourceErrorCodes.UnsupportedRef,
  });
}

/** `owner/name` with both parts non-empty (Gitea, GitHub). */
export function ownerAndName(provider: string, repoPath: string): [string, string] {
  const parts = repoPath.split('/');
  if (parts.length !== 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new GitSourceError(
      `${provider}: wrong repo path ${JSON.stringify(repoPath.slice(0, 200))}`,
      {
        code: GitSourceErrorCodes.InvalidRepoPath,
      },
    );
  }
  const [owner = '', name = ''] = parts;
  return [encodeURIComponent(owner), encodeURIComponent(name)];
}

/** Encodes each segment of a file path (the slashes stay). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** A header of a webhook request, case-insensitively (the first value when repeated). */
export function header(request: WebhookRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(request.headers)) {
    if (k.toLowerCase() !== lower) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** The raw webhook body as bytes. */
export function bodyBytes(request: WebhookRequest): Buffer {
  return typeof request.body === 'string'
    ? Buffer.from(request.body, 'utf8')
    : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
}

/** Constant-time check of a hex HMAC of `body`. */
export function hmacMatches(
  algorithm: 'sha1' | 'sha256',
  secret: string,
  body: Buffer,
  hex: string,
): boolean {
  if (!/^[0-9a-f]+$/i.test(hex)) return false;
  const expected = createHmac(algorithm, secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Constant-time string equality. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** A webhook signature error. */
export function signatureError(provider: string, message: string): GitSourceError {
  return new GitSourceError(`${provider} webhook: ${message}`, {
    code: GitSourceErrorCodes.WebhookSignature,
  });
}

/** An invalid webhook error. */
export function invalidWebhook(provider: string, message: string, cause?: unknown): GitSourceError {
  return new GitSourceError(`${provider} webhook: ${message}`, {
    code: GitSourceErrorCodes.WebhookInvalid,
    cause,
  });
}

/** Parses a webhook JSON body into an object. */
export function webhookJSON<T>(provider: string, body: Buffer): T {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    return parsed as T;
  } catch (err) {
    throw invalidWebhook(provider, 'the body is not a JSON object', err);
  }
}

/** Reads a string field (empty when absent or not a string). */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** Reads an object field (empty object when absent). */
export function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Where a provider serves OAuth2 and with which client. */
export interface OAuth2Endpoints {
  provider: string;
  authURL: string;
  tokenURL: string;
  clientID: string;
  clientSecret: string;
  scopes: readonly string[];
}

/** The authorization request URL (the authorization-code grant, RFC 6749 §4.1.1). */
export function oauth2AuthorizationURL(
  e: OAuth2Endpoints,
  callbackURL: string,
  state: string,
): string {
  const u = new URL(e.authURL);
  u.searchParams.set('client_id', e.clientID);
  u.searchParams.set('redirect_uri', callbackURL);
  u.searchParams.set('response_type', 'code');
  const scope = e.scopes.filter(Boolean).join(' ');
  if (scope) u.searchParams.set('scope', scope);
  u.searchParams.set('state', state);
  return u.toString();
}

/**
 * Posts to the token endpoint (client credentials in the body, as Gitea, GitHub and GitLab
 * all accept) and reads the token. GitHub answers errors with 200 and an `error` field, so
 * the field is checked whatever the status.
 */
export async function oauth2TokenRequest(
  e: OAuth2Endpoints,
  http: HttpClientOptions,
  form: Record<string, string>,
  options: CallOptions = {},
): Promise<OAuth2Token> {
  const client = new HttpClient({ ...http, baseURL: e.tokenURL, authorization: undefined });
  let body: Record<string, unknown>;
  try {
    const res = await client.request('POST', new URL(e.tokenURL), {
      form: { ...form, client_id: e.clientID, client_secret: e.clientSecret },
      signal: options.signal,
      noAuth: true,
      okStatuses: [400, 401],
    });
    body = obj(JSON.parse(res.body.toString('utf8')));
  } catch (err) {
    throw new GitSourceError(`${e.provider}: oauth2 token request failed`, {
      code: GitSourceErrorCodes.OAuth2,
      cause: err,
    });
  }
  const error = str(body['error']);
  const accessToken = str(body['access_token']);
  if (error || !accessToken) {
    throw new GitSourceError(
      `${e.provider}: oauth2 token request refused: ${error || 'no access_token in the answer'}`,
      { code: GitSourceErrorCodes.OAuth2 },
    );
  }
  const token: OAuth2Token = { accessToken, tokenType: str(body['token_type']) || 'bearer' };
  const refresh = str(body['refresh_token']);
  if (refresh) token.refreshToken = refresh;
  const expiresIn = Number(body['expires_in']);
  if (Number.isFinite(expiresIn) && expiresIn > 0)
    token.expiresAt = new Date(Date.now() + expiresIn * 1000);
  const scope = str(body['scope']);
  if (scope) token.scope = scope;
  return token;
}

/** Throws when an OAuth2 client is not configured. */
export function requireOAuth2Client(
  provider: string,
  clientID: string | undefined,
  clientSecret: string | undefined,
): void {
  if (!clientID || !clientSecret) {
    throw new GitSourceError(`${provider}: oauth2 client id and secret are not configured`, {
      code: GitSourceErrorCodes.InvalidConfig,
    });
  }
}

/** Validates an http(s) URL from the config. */
export function configURL(provider: string, name: string, value: string | undefined): string {
  if (!value) {
    throw new GitSourceError(`${provider}: ${name} is required`, {
      code: GitSourceErrorCodes.InvalidConfig,
    });
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch (err) {
    throw new GitSourceError(`${provider}: ${name} is not a URL`, {
      code: GitSourceErrorCodes.InvalidConfig,
      cause: err,
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new GitSourceError(`${provider}: ${name} must be an http or https URL`, {
      code: GitSourceErrorCodes.InvalidConfig,
    });
  }
  return trimTrailingSlashes(value);
}

/** `value` without its trailing slashes (a loop: a regex would be quadratic on many slashes). */
export function trimTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value[end - 1] === '/') end--;
  return value.slice(0, end);
}

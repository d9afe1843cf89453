import { Agent, fetch as undiciFetch } from 'undici';
import { GitSourceErrorCodes } from './codes.js';
import { GitSourceError } from './errors.js';
import type { Logger } from './types.js';

/** Options shared by every provider's HTTP client. */
export interface HttpClientOptions {
  /** The provider name for messages (`gitea`, `github`...). */
  provider: string;
  /** Base URL that request paths are appended to. */
  baseURL: string;
  /** `Authorization` header value, when authenticated. */
  authorization?: string;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Accept any TLS certificate (Agola's `skip_verify`). */
  skipVerify?: boolean;
  logger?: Logger;
}

/** A request. */
export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send no `Authorization` header (OAuth2 token endpoints, password logins). */
  noAuth?: boolean;
  /** Statuses treated as success besides 2xx. */
  okStatuses?: number[];
}

/** A response with its whole body read. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

const MAX_BODY = 16 * 1024 * 1024;
const MAX_PAGES = 1000;
const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

/** The text of a provider's error body (`message`, `error_description`, `error`), shortened. */
function remoteMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const m = parsed['message'] ?? parsed['error_description'] ?? parsed['error'];
    if (typeof m === 'string') return m.slice(0, 300);
    if (m !== undefined) return JSON.stringify(m).slice(0, 300);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function codeOfStatus(status: number) {
  if (status === 404) return GitSourceErrorCodes.NotExist;
  if (status === 401) return GitSourceErrorCodes.Unauthorized;
  if (status === 403) return GitSourceErrorCodes.Forbidden;
  return GitSourceErrorCodes.Remote;
}

/**
 * A small JSON-over-HTTP client: timeouts, cancellation, errors mapped to
 * {@link GitSourceError} by status, and Link-header pagination. Messages name the method and
 * the path only: never a query string or a header (tokens travel in headers).
 */
export class HttpClient {
  private readonly base: URL;

  constructor(readonly options: HttpClientOptions) {
    this.base = new URL(options.baseURL.endsWith('/') ? options.baseURL : options.baseURL + '/');
  }

  /** The absolute URL of a path relative to the base URL. */
  url(path: string, query?: RequestOptions['query']): URL {
    // `.` and `..` segments would be resolved away by URL parsing and reach another endpoint
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new GitSourceError(`${this.options.provider}: a path with a . or .. segment`, {
        code: GitSourceErrorCodes.InvalidRepoPath,
      });
    }
    let start = 0;
    while (path[start] === '/') start++;
    const u = new URL(path.slice(start), this.base);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    return u;
  }

  /** Sends a request and reads the body; a non-2xx status throws a {@link GitSourceError}. */
  async request(
    method: string,
    target: string | URL,
    options: RequestOptions = {},
  ): Promise<HttpResponse> {
    const url = typeof target === 'string' ? this.url(target, options.query) : target;
    const what = `${this.options.provider}: ${method} ${url.pathname}`;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.options.authorization && !options.noAuth)
      headers['authorization'] = this.options.authorization;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let status: number;
    let resHeaders: Headers;
    let data: Buffer;
    const started = Date.now();
    try {
      const init = { method, headers, body, signal, redirect: 'manual' as const };
      const res = this.options.skipVerify
        ? await undiciFetch(url, { ...init, dispatcher: insecureAgent })
        : await fetch(url, init);
      status = res.status;
      resHeaders = res.headers as Headers;
      const len = Number(res.headers.get('content-length') ?? '0');
      if (len > MAX_BODY) throw new Error(`response body of ${len} bytes is too large`);
      data = Buffer.from(await res.arrayBuffer());
      if (data.length > MAX_BODY)
        throw new Error(`response body of ${data.length} bytes is too large`);
    } catch (err) {
      const timedOut = timeout.aborted && !options.signal?.aborted;
      throw new GitSourceError(
        timedOut
          ? `${what}: no answer within ${this.options.timeoutMs} ms`
          : `${what}: request failed`,
        { code: GitSourceErrorCodes.RequestFailed, cause: err },
      );
    }
    this.options.logger?.debug(
      {
        provider: this.options.provider,
        method,
        path: url.pathname,
        status,
        ms: Date.now() - started,
      },
      'git source request',
    );
    if ((status < 200 || status > 299) && !options.okStatuses?.includes(status)) {
      throw new GitSourceError(`${what}: ${status} ${remoteMessage(data)}`, {
        code: codeOfStatus(status),
        status,
      });
    }
    return { status, headers: resHeaders, body: data };
  }

  /** Sends a request and parses the JSON body. */
  async json<T>(method: string, target: string | URL, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, target, options);
    return parseJSON<T>(
      res.body,
      `${this.options.provider}: ${method} ${typeof target === 'string' ? target.split('?')[0] : target.pathname}`,
    );
  }

  /**
   * GETs every page of a list, following the `Link: <...>; rel="next"` header (Gitea, GitHub
   * and GitLab all send it). A next link to another origin is refused, so a token is never
   * sent elsewhere.
   */
  async paginate<T>(path: string, options: RequestOptions = {}): Promise<T[]> {
    const items: T[] = [];
    let url: URL | undefined = this.url(path, options.query);
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await this.request('GET', url, options);
      const list = parseJSON<unknown>(res.body, `${this.options.provider}: GET ${url.pathname}`);
      if (!Array.isArray(list)) {
        throw new GitSourceError(
          `${this.options.provider}: GET ${url.pathname}: expected a JSON array`,
          {
            code: GitSourceErrorCodes.BadResponse,
          },
        );
      }
      items.push(...(list as T[]));
      const next = nextLink(res.headers.get('link'));
      url = undefined;
      if (next && list.length > 0) {
        const u = new URL(next, this.base);
        if (u.origin !== this.base.origin) {
          throw new GitSourceError(
            `${this.options.provider}: next page link points to another origin`,
            {
              code: GitSourceErrorCodes.BadResponse,
            },
          );
        }
        url = u;
      }
    }
    return items;
  }
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?/.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** Parses JSON or throws `ERR_GITSOURCE_BAD_RESPONSE`. */
export function parseJSON<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new GitSourceError(`${what}: the answer is not JSON`, {
      code: GitSourceErrorCodes.BadResponse,
      cause: err,
    });
  }
}

/**
 * The HTTP layer of the client: one `call(method, path, init)` that sends a JSON request and
 * turns every way it can fail into a coded error naming the method and route. Written so
 * another Agola-TS API client can use the same approach: it is given the service name and
 * its codes, and knows nothing of configstore routes.
 */
import { AgolaError, parseRemoteError } from '@agola-ts/errors';

/** The codes a {@link createHttpCaller} uses for each kind of failure. */
export interface HttpCallerCodes {
  unreachable: string;
  connectionLost: string;
  timeout: string;
  aborted: string;
  badResponse: string;
}

/** Options of {@link createHttpCaller}. */
export interface HttpCallerOptions {
  /** The service's name in error messages (`configstore`). */
  service: string;
  /** API base URL with its prefix; trailing slashes are ignored. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  /** Cancels every request. */
  signal?: AbortSignal | undefined;
  /** Fails a request with no complete answer after this many ms; 0 waits forever. */
  timeoutMs: number;
  codes: HttpCallerCodes;
}

/** One request of a {@link HttpCaller}. */
export interface HttpCallInit {
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** Sends one request and returns the parsed JSON answer (`undefined` for an empty one). */
export type HttpCaller = <T>(method: string, path: string, init?: HttpCallInit) => Promise<T>;

// Node system error codes (undici puts them on the cause of `fetch failed`).
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function systemCodeOf(err: unknown): string | undefined {
  // fetch wraps the socket error once (TypeError "fetch failed" → cause); walk a few levels.
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE.has(code) || LOST.has(code))) return code;
    current = current.cause;
  }
  return undefined;
}

/** A short, value-free description of the remote: `127.0.0.1:4002` (never credentials or query). */
function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return 'an invalid base URL';
  }
}

/**
 * Creates the request function of an API client.
 *
 * Failures: an error status rejects with the `RemoteError` the body describes; no answer
 * rejects with an `AgolaError` whose code is one of `codes` (`unreachable` before anything
 * was sent, `connectionLost` when the connection broke, `timeout`, `aborted`), whose message
 * is `<service> <METHOD> <path> (<host>): <what happened>` and whose cause is fetch's error.
 */
export function createHttpCaller(options: HttpCallerOptions): HttpCaller {
  const base = trimTrailingSlashes(options.baseUrl);
  const host = hostOf(base);
  const doFetch = options.fetch ?? globalThis.fetch;
  const { codes, service } = options;

  return async function call<T>(method: string, path: string, init: HttpCallInit = {}) {
    const qs = init.query ? new URLSearchParams(init.query).toString() : '';
    const url = `${base}${path}${qs ? `?${qs}` : ''}`;
    const callers = [options.signal, init.signal].filter((s): s is AbortSignal => !!s);
    const timeout = options.timeoutMs > 0 ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const all = timeout ? [...callers, timeout] : callers;
    const where = `${service} ${method} ${path} (${host})`;

    const fail = (cause: unknown, stage: 'request' | 'answer'): AgolaError => {
      if (callers.some((s) => s.aborted)) {
        return new AgolaError(`${where}: cancelled`, { code: codes.aborted, cause });
      }
      if (timeout?.aborted) {
        return new AgolaError(`${where}: no complete answer within ${options.timeoutMs} ms`, {
          code: codes.timeout,
          cause,
        });
      }
      const sys = systemCodeOf(cause);
      if (sys !== undefined && UNREACHABLE.has(sys) && stage === 'request') {
        return new AgolaError(`${where}: cannot connect (${sys})`, {
          code: codes.unreachable,
          cause,
        });
      }
      const why = sys ?? (cause instanceof Error ? cause.message : String(cause));
      return new AgolaError(
        `${where}: connection lost before the ${stage === 'request' ? 'answer' : 'whole answer'} (${why})`,
        {
          code: codes.connectionLost,
          cause,
        },
      );
    };

    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        ...(init.body !== undefined
          ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
          : {}),
        ...(all.length > 0 ? { signal: all.length === 1 ? all[0] : AbortSignal.any(all) } : {}),
      });
    } catch (cause) {
      throw fail(cause, 'request');
    }
    let text: string;
    try {
      text = await res.text();
    } catch (cause) {
      throw fail(cause, 'answer');
    }
    const err = parseRemoteError(res.status, text);
    if (err) throw err;
    if (res.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new AgolaError(`${where}: the answer is not JSON`, { code: codes.badResponse, cause });
    }
  };
}

/** Drops trailing slashes without a regex (`/\/+$/` is super-linear on long runs of slashes). */
function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
  return s.slice(0, end);
}

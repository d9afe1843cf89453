/**
 * The HTTP layer of the Agola-TS API clients: one caller per client that sends JSON or raw
 * requests and turns every way a request can fail into a coded error naming the method and
 * route. It is given the service name and the client's own codes, and knows no routes.
 */
import { AgolaError, parseRemoteError } from '@agola-ts/errors';

/** The codes a {@link createHttpCaller} uses for each kind of failure (the client's own). */
export interface HttpCallerCodes {
  /** Could not connect: refused, host not found, no route; nothing was sent. */
  unreachable: string;
  /** The connection broke before the whole answer arrived. */
  connectionLost: string;
  /** No answer within `timeoutMs`. */
  timeout: string;
  /** Cancelled through a `signal`. */
  aborted: string;
  /** A 2xx answer whose body is not the JSON that {@link HttpCaller.call} expects. */
  badResponse: string;
}

/** Options of {@link createHttpCaller}. */
export interface HttpCallerOptions {
  /** The service's name at the start of error messages (`configstore`, `runservice`). */
  service: string;
  /**
   * API base URL with its prefix (`http://127.0.0.1:4002/api/v1alpha`); trailing slashes are
   * ignored. Credentials in it (`http://user:pass@host`) are sent as a Basic `authorization`
   * header and never appear in URLs or messages.
   */
  baseUrl: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * Headers sent with every request (a gateway client's `authorization: token …`); a
   * request's own `headers` override them. Never in error messages.
   */
  headers?: Record<string, string> | undefined;
  /** Cancels every request (and every streamed answer) of this caller. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds a request may wait; 0 waits forever. {@link HttpCaller.call} waits for the
   * complete answer; {@link HttpCaller.raw} only until the response headers, so a long
   * stream is never cut. While a streamed request body is sent, the timer restarts at each
   * chunk the connection takes, so a long upload is not cut while it moves.
   */
  timeoutMs: number;
  /** The client's codes for each kind of failure. */
  codes: HttpCallerCodes;
}

/** One request of an {@link HttpCaller}. */
export interface HttpRequest {
  /** Query parameters (a `URLSearchParams` for repeated keys). Never in error messages. */
  query?: Record<string, string> | URLSearchParams | undefined;
  /** A body sent as JSON (`content-type: application/json`). */
  body?: unknown;
  /**
   * A body sent as is (`content-type: application/octet-stream` unless `headers` say
   * otherwise); a stream is sent with `duplex: 'half'`. Ignored when `body` is given.
   */
  rawBody?: Uint8Array | ReadableStream<Uint8Array> | undefined;
  /** Extra headers; they override the defaults above. */
  headers?: Record<string, string> | undefined;
  /** Statuses besides 2xx that are answers, not errors (`304` of a cache upload). */
  okStatuses?: readonly number[] | undefined;
  /** Cancels this request (and its streamed answer). */
  signal?: AbortSignal | undefined;
}

/** The request functions of an API client, made by {@link createHttpCaller}. */
export interface HttpCaller {
  /**
   * Sends a request and returns the parsed JSON answer (`undefined` for 204 or an empty
   * body). The timeout covers the complete answer.
   *
   * @throws `RemoteError` for an error status; an `AgolaError` with one of the caller's codes
   * when there is no (complete, JSON) answer.
   */
  call<T>(method: string, path: string, request?: HttpRequest): Promise<T>;
  /**
   * Sends a request and returns the response as soon as its headers arrive (streams: logs,
   * archives, Server-Sent Events). The timeout stops at the headers. A failure while the
   * body is read (reset, cancelled) errors the body with the caller's `connectionLost` or
   * `aborted` code. Read the body to its end or cancel it: that releases the signals.
   *
   * @throws `RemoteError` for an error status (its body is read); an `AgolaError` with one of
   * the caller's codes when no response arrives.
   */
  raw(method: string, path: string, request?: HttpRequest): Promise<Response>;
  /**
   * The prefix of this caller's error messages, `<service> <METHOD> <path> (<host>)`, for a
   * client's own errors about an answer (an event that is not JSON).
   */
  where(method: string, path: string): string;
}

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

/** Statuses whose response has no body; a new `Response` cannot be made with one. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

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

/** `fetch failed` is undici's error for anything that went wrong on the wire. */
const isFetchFailure = (err: unknown) => err instanceof TypeError && err.message === 'fetch failed';

/** A short, value-free description of the remote: `127.0.0.1:4002` (never credentials or query). */
function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return 'an invalid base URL';
  }
}

/** Moves `user:pass@` out of the base URL into a Basic authorization header value. */
function splitCredentials(baseUrl: string): { base: string; authorization?: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { base: baseUrl };
  }
  if (url.username === '' && url.password === '') return { base: baseUrl };
  const user = safeDecode(url.username);
  const password = safeDecode(url.password);
  url.username = '';
  url.password = '';
  return {
    base: trimTrailingSlashes(url.href),
    authorization: `Basic ${base64(`${user}:${password}`)}`,
  };
}

/** Base64 of the UTF-8 bytes of `s`, with what browsers and node both have (no `Buffer`). */
function base64(s: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(s)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Drops trailing slashes without a regex (`/\/+$/` is super-linear on long runs of slashes). */
function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
  return s.slice(0, end);
}

type Mode = 'complete' | 'headers';
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/**
 * The life of one request: its abort controller (fed by the callers' signals and the
 * timer), what aborted it, and the error mapping.
 */
interface Exchange {
  signal: AbortSignal;
  /** Restarts the timer (a chunk of a streamed request body went out). */
  progress(): void;
  /** The response headers arrived: in `headers` mode the timer stops for good. */
  headersReceived(): void;
  /** Removes the listeners and the timer. */
  finish(): void;
  /** The coded error of a failure at `stage`. */
  fail(cause: unknown, stage: 'request' | 'answer'): AgolaError;
  /** Records that reading the caller's request body failed. */
  uploadFailed(err: unknown): void;
}

/**
 * Creates the request functions of an API client.
 *
 * Failures: an error status rejects with the `RemoteError` the body describes; no answer
 * rejects with an `AgolaError` whose code is one of `codes` (`unreachable` before anything
 * was sent, `connectionLost` when the connection broke, `timeout`, `aborted`), whose message
 * is `<service> <METHOD> <path> (<host>): <what happened>` (never the query or credentials)
 * and whose cause is fetch's error.
 *
 * @example
 * ```ts
 * const http = createHttpCaller({
 *   service: 'configstore',
 *   baseUrl: 'http://127.0.0.1:4002/api/v1alpha',
 *   timeoutMs: 30_000,
 *   codes: { unreachable: 'ERR_X_UNREACHABLE', connectionLost: 'ERR_X_CONNECTION_LOST',
 *     timeout: 'ERR_X_TIMEOUT', aborted: 'ERR_X_ABORTED', badResponse: 'ERR_X_BAD_RESPONSE' },
 * });
 * const users = await http.call<User[]>('GET', '/users', { query: { limit: '5' } });
 * const logs = await http.raw('GET', '/logs', { query: { runid, taskid, step: '0', follow: '' } });
 * ```
 */
export function createHttpCaller(options: HttpCallerOptions): HttpCaller {
  const { base, authorization } = splitCredentials(trimTrailingSlashes(options.baseUrl));
  const host = hostOf(base);
  const doFetch = options.fetch ?? globalThis.fetch;
  const { codes, service, timeoutMs } = options;

  const where = (method: string, path: string) => `${service} ${method} ${path} (${host})`;

  function open(prefix: string, mode: Mode, callSignal: AbortSignal | undefined): Exchange {
    const controller = new AbortController();
    let abortedBy: 'caller' | 'timeout' | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timed = timeoutMs > 0;
    let uploadError: { err: unknown } | undefined;
    const listeners: [AbortSignal, () => void][] = [];

    const abort = (by: 'caller' | 'timeout', reason: unknown) => {
      abortedBy ??= by;
      controller.abort(reason);
    };
    for (const s of [options.signal, callSignal]) {
      if (!s) continue;
      if (s.aborted) {
        abort('caller', s.reason);
        continue;
      }
      const onAbort = () => abort('caller', s.reason);
      s.addEventListener('abort', onAbort, { once: true });
      listeners.push([s, onAbort]);
    }
    const arm = () => {
      if (!timed) return;
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          abort('timeout', new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
        timeoutMs,
      );
    };
    const finish = () => {
      timed = false;
      clearTimeout(timer);
      for (const [s, onAbort] of listeners.splice(0)) s.removeEventListener('abort', onAbort);
    };
    arm();

    return {
      signal: controller.signal,
      progress: arm,
      headersReceived() {
        if (mode === 'headers') {
          timed = false;
          clearTimeout(timer);
        }
      },
      finish,
      uploadFailed(err) {
        uploadError ??= { err };
      },
      fail(cause, stage) {
        if (abortedBy === 'caller') {
          return new AgolaError(`${prefix}: cancelled`, { code: codes.aborted, cause });
        }
        if (abortedBy === 'timeout') {
          const what = mode === 'complete' ? 'no complete answer' : 'no response';
          return new AgolaError(`${prefix}: ${what} within ${timeoutMs} ms`, {
            code: codes.timeout,
            cause,
          });
        }
        if (uploadError) {
          // The caller's body stream failed: its error, not the network's.
          return new AgolaError(`${prefix}: reading the request body failed`, {
            cause: uploadError.err,
          });
        }
        const sys = systemCodeOf(cause);
        if (stage === 'request' && sys !== undefined && UNREACHABLE.has(sys)) {
          return new AgolaError(`${prefix}: cannot connect (${sys})`, {
            code: codes.unreachable,
            cause,
          });
        }
        if (stage === 'request' && sys === undefined && !isFetchFailure(cause)) {
          // fetch refused the request itself (an invalid URL): nothing reached the server.
          return new AgolaError(`${prefix}: the request could not be sent`, {
            code: codes.unreachable,
            cause,
          });
        }
        const before = stage === 'request' ? 'the answer' : 'the whole answer';
        return new AgolaError(
          `${prefix}: connection lost before ${before}${sys !== undefined ? ` (${sys})` : ''}`,
          { code: codes.connectionLost, cause },
        );
      },
    };
  }

  /** Sends the request; resolves with an accepted response, the exchange still open. */
  async function send(
    method: string,
    path: string,
    request: HttpRequest,
    mode: Mode,
  ): Promise<{ res: Response; ex: Exchange }> {
    const query = request.query;
    const qs = query
      ? (query instanceof URLSearchParams ? query : new URLSearchParams(query)).toString()
      : '';
    const url = `${base}${path}${qs ? `?${qs}` : ''}`;
    const ex = open(where(method, path), mode, request.signal);

    const headers = new Headers();
    if (authorization !== undefined) headers.set('authorization', authorization);
    // Headers objects, so a user-supplied key such as `__proto__` is only a header name.
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
    let streamed = false;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers.set('content-type', 'application/json');
    } else if (request.rawBody !== undefined) {
      headers.set('content-type', 'application/octet-stream');
      if (request.rawBody instanceof Uint8Array) {
        body = request.rawBody;
      } else {
        body = trackUpload(request.rawBody, ex);
        streamed = true;
      }
    }
    for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);

    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(streamed ? { duplex: 'half' } : {}),
        signal: ex.signal,
      } as RequestInit);
    } catch (cause) {
      ex.finish();
      throw ex.fail(cause, 'request');
    }
    const accepted =
      (res.status >= 200 && res.status < 300) ||
      (request.okStatuses?.includes(res.status) ?? false);
    if (!accepted) {
      let text: string;
      try {
        text = await res.text();
      } catch (cause) {
        throw ex.fail(cause, 'answer');
      } finally {
        ex.finish();
      }
      // A status outside 2xx always gives an error.
      throw parseRemoteError(res.status, text) ?? new Error(`unexpected status ${res.status}`);
    }
    return { res, ex };
  }

  return {
    where,

    async call<T>(method: string, path: string, request: HttpRequest = {}): Promise<T> {
      const { res, ex } = await send(method, path, request, 'complete');
      let text: string;
      try {
        text = await res.text();
      } catch (cause) {
        throw ex.fail(cause, 'answer');
      } finally {
        ex.finish();
      }
      if (res.status === 204 || text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new AgolaError(`${where(method, path)}: the answer is not JSON`, {
          code: codes.badResponse,
          cause,
        });
      }
    },

    async raw(method: string, path: string, request: HttpRequest = {}): Promise<Response> {
      const { res, ex } = await send(method, path, request, 'headers');
      ex.headersReceived();
      if (res.body === null || NULL_BODY_STATUSES.has(res.status)) {
        ex.finish();
        await res.body?.cancel().catch(() => undefined);
        return res;
      }
      return new Response(guardBody(res.body, ex), {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    },
  };
}

/** The caller's upload stream, restarting the timer at each chunk fetch takes from it. */
function trackUpload(source: ReadableStream<Uint8Array>, ex: Exchange): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadResult;
        try {
          chunk = await reader.read();
        } catch (err) {
          ex.uploadFailed(err);
          throw err;
        }
        ex.progress();
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** The response body, with read failures turned into the caller's coded errors. */
function guardBody(source: ReadableStream<Uint8Array>, ex: Exchange): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadResult;
        try {
          chunk = await reader.read();
        } catch (cause) {
          ex.finish();
          controller.error(ex.fail(cause, 'answer'));
          return;
        }
        if (chunk.done) {
          ex.finish();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      },
      async cancel(reason) {
        ex.finish();
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

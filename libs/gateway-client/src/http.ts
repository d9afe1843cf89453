import { createHttpCaller, type HttpCaller } from '@agola-ts/api-client';
import { GatewayClientErrorCodes as Codes } from './codes.js';

/** How the client authenticates. */
export type Credentials =
  { type: 'token'; token: string } | { type: 'bearer'; token: string } | undefined;

/** One request. */
export interface RequestInit {
  query?: [string, string][];
  body?: unknown;
  /** A body sent as is (`application/octet-stream`); a stream is sent chunked with no timeout. */
  rawBody?: Uint8Array | ReadableStream<Uint8Array>;
  signal?: AbortSignal | undefined;
}

/** Settings shared by every request of a client. */
export interface HttpSettings {
  /** The API base URL, with the prefix. */
  baseUrl: string;
  fetch: typeof globalThis.fetch;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  credentials: () => Credentials;
}

/** The requests of a gateway client, on the shared HTTP layer of `@agola-ts/api-client`. */
export interface GatewayHttp {
  /** A JSON answer (`undefined` for 204 or an empty body). */
  call<T>(method: string, path: string, init?: RequestInit): Promise<T>;
  /** A text answer (the badge's SVG). */
  text(method: string, path: string, init?: RequestInit): Promise<string>;
  /** A streamed answer: its chunks as they arrive (no timeout). */
  stream(method: string, path: string, init?: RequestInit): Promise<AsyncIterable<Uint8Array>>;
}

const codes = {
  unreachable: Codes.Unreachable,
  connectionLost: Codes.ConnectionLost,
  timeout: Codes.Timeout,
  aborted: Codes.Aborted,
  badResponse: Codes.BadResponse,
};

/**
 * Creates the requests of a gateway client: error statuses reject with a `RemoteError`, no
 * answer with an `AgolaError` coded with one of `GatewayClientErrorCodes`, its message
 * `gateway <METHOD> <path> (<host>): ...` (never the query or the credentials).
 */
export function createGatewayHttp(settings: HttpSettings): GatewayHttp {
  const callerWith = (timeoutMs: number): HttpCaller =>
    createHttpCaller({
      service: 'gateway',
      baseUrl: settings.baseUrl,
      fetch: settings.fetch,
      signal: settings.signal,
      timeoutMs,
      codes,
    });
  const http = callerWith(settings.timeoutMs);
  // a log stream has no timeout: a followed step may not start for a long time
  const streams = callerWith(0);
  const requestOf = (init: RequestInit) => {
    const cred = settings.credentials();
    return {
      ...(init.query && init.query.length > 0 ? { query: new URLSearchParams(init.query) } : {}),
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.rawBody !== undefined ? { rawBody: init.rawBody } : {}),
      ...(cred ? { headers: { authorization: `${cred.type} ${cred.token}` } } : {}),
      signal: init.signal,
    };
  };
  return {
    call: <T>(method: string, path: string, init: RequestInit = {}) =>
      // an upload read from a stream takes as long as the stream: no timeout
      (init.rawBody instanceof ReadableStream ? streams : http).call<T>(
        method,
        path,
        requestOf(init),
      ),
    async text(method, path, init = {}) {
      return (await http.raw(method, path, requestOf(init))).text();
    },
    async stream(method, path, init = {}) {
      return bodyChunks(await streams.raw(method, path, requestOf(init)));
    },
  };
}

/**
 * The body of a streamed answer as an async iterable of chunks. A broken connection fails
 * the iteration with the client's `ERR_GATEWAY_CLIENT_CONNECTION_LOST` (the HTTP layer maps
 * it); leaving the loop early cancels the body.
 */
export async function* bodyChunks(res: Response): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

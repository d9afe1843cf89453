import { AgolaError, parseRemoteError } from '@agola-ts/errors';
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
  /** Answer the raw response (2xx) instead of parsing JSON; no timeout applies. */
  stream?: boolean;
}

/** Settings shared by every request of a client. */
export interface HttpSettings {
  baseUrl: string;
  fetch: typeof globalThis.fetch;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  credentials: () => Credentials;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function systemCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    if (typeof code === 'string' && code.startsWith('UND_')) return code;
    current = current.cause;
  }
  return undefined;
}

/** Sends one request; JSON answers are parsed, error statuses reject with a `RemoteError`. */
export async function request(
  settings: HttpSettings,
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<{ json: unknown; response: Response | undefined }> {
  const qs =
    init.query && init.query.length > 0 ? `?${new URLSearchParams(init.query).toString()}` : '';
  const url = `${settings.baseUrl}${path}${qs}`;
  const callers = [settings.signal, init.signal].filter((s): s is AbortSignal => !!s);
  const timeout =
    settings.timeoutMs > 0 && !init.stream && !(init.rawBody instanceof ReadableStream)
      ? AbortSignal.timeout(settings.timeoutMs)
      : undefined;
  const all = timeout ? [...callers, timeout] : callers;
  // the path only: a URL may hold a ref the caller considers private, never a token
  const where = `gateway ${method} ${path}`;
  const fail = (cause: unknown, stage: 'request' | 'answer'): AgolaError => {
    if (callers.some((s) => s.aborted)) {
      return new AgolaError(`${where}: cancelled`, { code: Codes.Aborted, cause });
    }
    if (timeout?.aborted) {
      return new AgolaError(`${where}: no complete answer within ${settings.timeoutMs} ms`, {
        code: Codes.Timeout,
        cause,
      });
    }
    const sys = systemCodeOf(cause);
    if (sys !== undefined && UNREACHABLE.has(sys) && stage === 'request') {
      return new AgolaError(`${where}: cannot connect (${sys})`, {
        code: Codes.Unreachable,
        cause,
      });
    }
    return new AgolaError(`${where}: connection lost (${sys ?? 'no answer'})`, {
      code: Codes.ConnectionLost,
      cause,
    });
  };
  const headers: Record<string, string> = {};
  const cred = settings.credentials();
  if (cred) headers['authorization'] = `${cred.type} ${cred.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.rawBody !== undefined) headers['content-type'] = 'application/octet-stream';
  const body =
    init.body !== undefined
      ? { body: JSON.stringify(init.body) }
      : init.rawBody instanceof ReadableStream
        ? // undici needs duplex for a streamed request body
          ({ body: init.rawBody, duplex: 'half' } as { body: ReadableStream<Uint8Array> })
        : init.rawBody !== undefined
          ? { body: init.rawBody }
          : {};
  let res: Response;
  try {
    res = await settings.fetch(url, {
      method,
      headers,
      ...body,
      ...(all.length > 0 ? { signal: all.length === 1 ? all[0] : AbortSignal.any(all) } : {}),
    });
  } catch (cause) {
    throw fail(cause, 'request');
  }
  if (init.stream && res.status >= 200 && res.status < 300)
    return { json: undefined, response: res };
  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    throw fail(cause, 'answer');
  }
  const err = parseRemoteError(res.status, text);
  if (err) throw err;
  if (res.status === 204 || text === '' || init.stream)
    return { json: undefined, response: undefined };
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) return { json: text, response: undefined };
  try {
    return { json: JSON.parse(text) as unknown, response: undefined };
  } catch (cause) {
    throw new AgolaError(`${where}: the answer is not JSON`, { code: Codes.BadResponse, cause });
  }
}

/** The body of a streamed answer as an async iterable of chunks. */
export async function* bodyChunks(res: Response, where: string): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (cause) {
        throw new AgolaError(`${where}: connection lost while streaming`, {
          code: Codes.ConnectionLost,
          cause,
        });
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

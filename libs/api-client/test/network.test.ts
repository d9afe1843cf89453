// Requests that get no (complete) answer, against real sockets: a refused port, servers that
// reset the connection (before and during the answer), one that never answers, a stream cut
// in the middle, cancelled requests; and the requests a caller sends, to a real HTTP server.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { causeChain, is, RemoteError } from '@agola-ts/errors';
import { createHttpCaller, type HttpCallerOptions } from '../src/index.js';

const codes = {
  unreachable: 'ERR_TEST_UNREACHABLE',
  connectionLost: 'ERR_TEST_CONNECTION_LOST',
  timeout: 'ERR_TEST_TIMEOUT',
  aborted: 'ERR_TEST_ABORTED',
  badResponse: 'ERR_TEST_BAD_RESPONSE',
};

const servers: { close(cb: () => void): unknown }[] = [];
const sockets = new Set<Socket>();

function ignore(): void {
  // the request (or a socket error) is left without an answer
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function portOf(server: Server | ReturnType<typeof createHttpServer>): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A raw TCP server; `onRequest` gets the socket once the request's first bytes arrive. */
async function rawServer(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', ignore);
    socket.once('data', () => onRequest(socket));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${portOf(server)}/api/v1alpha`;
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A real HTTP server that records each request and answers with `answer`. */
async function httpServer(
  answer: (seen: Seen, res: import('node:http').ServerResponse) => void,
): Promise<{ baseUrl: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(s);
      answer(s, res);
    });
  });
  server.on('connection', (s) => sockets.add(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${portOf(server)}/api/v1alpha`, seen };
}

const caller = (baseUrl: string, extra: Partial<HttpCallerOptions> = {}) =>
  createHttpCaller({ service: 'testsvc', baseUrl, timeoutMs: 0, codes, ...extra });

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

function systemCodes(err: unknown): unknown[] {
  return [...causeChain(err)].map((e) => (e as { code?: unknown }).code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('requests that get no answer', () => {
  it('a refused port is `unreachable`, naming service, method, route and host', async () => {
    const baseUrl = await rawServer(ignore);
    await new Promise<void>((r) => servers.pop()?.close(() => r())); // the port is now closed
    const err = await failure(caller(baseUrl).call('GET', '/users/alice'));
    expect(is(err, codes.unreachable)).toBe(true);
    expect(err.message).toMatch(
      /^testsvc GET \/users\/alice \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/,
    );
    expect(systemCodes(err)).toContain('ECONNREFUSED');
  });

  it('a reset before the answer is `connectionLost`', async () => {
    const baseUrl = await rawServer((socket) => socket.resetAndDestroy());
    const err = await failure(caller(baseUrl).call('POST', '/users', { body: { a: 1 } }));
    expect(is(err, codes.connectionLost)).toBe(true);
    expect(err.message).toMatch(
      /^testsvc POST \/users \(127\.0\.0\.1:\d+\): connection lost before the answer \(ECONNRESET\)/,
    );
    expect(systemCodes(err)).toContain('ECONNRESET');
  });

  it('a reset in the middle of a JSON answer is `connectionLost`', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n[{"id":');
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const err = await failure(caller(baseUrl).call('GET', '/orgs'));
    expect(is(err, codes.connectionLost)).toBe(true);
    expect(err.message).toMatch(
      /^testsvc GET \/orgs \(127\.0\.0\.1:\d+\): connection lost before the whole answer/,
    );
  });

  it('a stream cut in the middle errors its body with `connectionLost`, after the first bytes', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    const res = await caller(baseUrl, { timeoutMs: 60_000 }).raw('GET', '/logs', {
      query: { runid: 'r1' },
    });
    expect(res.status).toBe(200);
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const chunk of res.body!) got.push(Buffer.from(chunk).toString());
      })(),
    );
    expect(got.join('')).toBe('hello');
    expect(is(err, codes.connectionLost)).toBe(true);
    expect(err.message).toMatch(
      /^testsvc GET \/logs \(127\.0\.0\.1:\d+\): connection lost before the whole answer/,
    );
  });

  it('reading a cut stream whole (arrayBuffer) rejects with the coded error too', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc');
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const res = await caller(baseUrl).raw('GET', '/executor/archives');
    const err = await failure(res.arrayBuffer());
    expect(is(err, codes.connectionLost)).toBe(true);
  });

  it('a server that never answers is `timeout` after timeoutMs, for call and raw', async () => {
    const baseUrl = await rawServer(ignore);
    const http = caller(baseUrl, { timeoutMs: 300 });
    const err = await failure(http.call('DELETE', '/orgs/acme'));
    expect(is(err, codes.timeout)).toBe(true);
    expect(err.message).toMatch(
      /^testsvc DELETE \/orgs\/acme \(127\.0\.0\.1:\d+\): no complete answer within 300 ms: /,
    );
    expect((err.cause as Error | undefined)?.name).toBe('TimeoutError');

    const rawErr = await failure(http.raw('GET', '/runs/events'));
    expect(is(rawErr, codes.timeout)).toBe(true);
    expect(rawErr.message).toMatch(/^testsvc GET \/runs\/events .*: no response within 300 ms: /);
  });

  it('the timeout of a JSON call covers the body: a body that stalls times out', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n[');
    });
    const err = await failure(caller(baseUrl, { timeoutMs: 300 }).call('GET', '/users'));
    expect(is(err, codes.timeout)).toBe(true);
  });

  it('the timeout of raw stops at the headers: a stream longer than timeoutMs is read whole', async () => {
    const { baseUrl } = await httpServer((_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`line ${n}\n`);
        if (++n === 4) {
          clearInterval(tick);
          res.end();
        }
      }, 700);
    });
    // the headers come at once, the body takes 2.8 s: twice the timeout (with room for the
    // headers on a loaded CI machine)
    const res = await caller(baseUrl, { timeoutMs: 1400 }).raw('GET', '/logs');
    expect(await res.text()).toBe('line 0\nline 1\nline 2\nline 3\n');
  });

  it('a streamed upload slower than timeoutMs in total is not cut while it moves', async () => {
    const { baseUrl, seen } = await httpServer((_s, res) => res.writeHead(204).end());
    let i = 0;
    const upload = new ReadableStream<Uint8Array>({
      async pull(c) {
        await sleep(200);
        if (i === 4) c.close();
        else c.enqueue(new Uint8Array([i++]));
      },
    });
    const out = await caller(baseUrl, { timeoutMs: 500 }).call('POST', '/import', {
      rawBody: upload,
    });
    expect(out).toBeUndefined();
    expect([...seen[0]!.body]).toEqual([0, 1, 2, 3]);
    expect(seen[0]!.headers['content-type']).toBe('application/octet-stream');
  });

  it('a failing upload stream reports its own error, not the network', async () => {
    const { baseUrl } = await httpServer((_s, res) => res.writeHead(204).end());
    const broken = new Error('disk read failed');
    const upload = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1]));
      },
      pull() {
        throw broken;
      },
    });
    const err = await failure(caller(baseUrl).call('POST', '/import', { rawBody: upload }));
    expect(is(err, codes.connectionLost)).toBe(false);
    expect(err.message).toMatch(/^testsvc POST \/import .*: reading the request body failed/);
    expect([...causeChain(err)]).toContain(broken);
  });

  it('a cancelled request is `aborted`, not a timeout, through the call or the caller signal', async () => {
    const baseUrl = await rawServer(ignore);
    const perCall = new AbortController();
    const pending = failure(
      caller(baseUrl, { timeoutMs: 60_000 }).call('GET', '/projects/org%2Fp', {
        signal: perCall.signal,
      }),
    );
    setTimeout(() => perCall.abort(), 50);
    const err = await pending;
    expect(is(err, codes.aborted)).toBe(true);
    expect(err.message).toMatch(/^testsvc GET \/projects\/org%2Fp .*: cancelled: /);

    const whole = new AbortController();
    whole.abort();
    const early = await failure(caller(baseUrl, { signal: whole.signal }).call('GET', '/x'));
    expect(is(early, codes.aborted)).toBe(true);
  });

  it('cancelling a stream in the middle errors its body with `aborted`', async () => {
    const { baseUrl } = await httpServer((_seen, res) => {
      res.writeHead(200);
      res.write('first\n'); // and never ends
    });
    const ac = new AbortController();
    const res = await caller(baseUrl).raw('GET', '/logs', { signal: ac.signal });
    const reader = res.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('first\n');
    setTimeout(() => ac.abort(), 20);
    const err = await failure(reader.read());
    expect(is(err, codes.aborted)).toBe(true);
  });
});

describe('answers', () => {
  it('an error status is a RemoteError; an okStatus is an answer', async () => {
    const { baseUrl } = await httpServer((seen, res) => {
      if (seen.url.endsWith('/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"code":"ERR_NOT_EXIST","message":"nope"}');
      } else res.writeHead(304).end();
    });
    const http = caller(baseUrl);
    const err = await failure(http.call('GET', '/missing'));
    expect(err).toBeInstanceOf(RemoteError);
    expect([(err as RemoteError).status, (err as RemoteError).remoteMessage]).toEqual([
      404,
      'nope',
    ]);
    const notModified = await failure(http.raw('POST', '/caches/k'));
    expect((notModified as RemoteError).status).toBe(304);
    const res = await http.raw('POST', '/caches/k', { okStatuses: [304] });
    expect(res.status).toBe(304);
    expect(res.body).toBeNull();
  });

  it('a 2xx answer that is not JSON is `badResponse`', async () => {
    const { baseUrl } = await httpServer((_s, res) => res.writeHead(200).end('<html>hi<'));
    const err = await failure(caller(baseUrl).call('GET', '/users'));
    expect(is(err, codes.badResponse)).toBe(true);
    expect(err.message).toMatch(/^testsvc GET \/users .*: the answer is not JSON/);
    expect(caller(baseUrl).where('GET', '/users')).toMatch(
      /^testsvc GET \/users \(127\.0\.0\.1:\d+\)$/,
    );
  });

  it('sends the query, JSON body, raw body and extra headers as given', async () => {
    const { baseUrl, seen } = await httpServer((s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(s.method === 'PUT' ? '{"ok":true}' : '');
    });
    const http = caller(`${baseUrl}//`, { headers: { authorization: 'token t1', 'x-size': '0' } });
    const query = new URLSearchParams([
      ['phase', 'queued'],
      ['phase', 'running'],
    ]);
    expect(await http.call('PUT', '/runs/r1/actions', { query, body: { a: 'b' } })).toEqual({
      ok: true,
    });
    expect(await http.call('POST', '/caches/k', { rawBody: new Uint8Array([7, 8]) })).toBe(
      undefined,
    );
    await http.call('POST', '/raw', {
      rawBody: new Uint8Array([1]),
      headers: { 'content-type': 'application/x-tar', 'x-size': '1' },
    });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'PUT /api/v1alpha/runs/r1/actions?phase=queued&phase=running',
      'POST /api/v1alpha/caches/k',
      'POST /api/v1alpha/raw',
    ]);
    expect(JSON.parse(seen[0]!.body.toString())).toEqual({ a: 'b' });
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect([...seen[1]!.body]).toEqual([7, 8]);
    expect(seen[2]!.headers['content-type']).toBe('application/x-tar');
    expect(seen[2]!.headers['x-size']).toBe('1');
    expect(seen.map((s) => s.headers.authorization)).toEqual(['token t1', 'token t1', 'token t1']);
    expect(seen[0]!.headers['x-size']).toBe('0');
  });

  it('credentials in the base URL go in a Basic header, and no message shows them or the query', async () => {
    const { baseUrl, seen } = await httpServer((_s, res) => res.writeHead(204).end());
    const withCreds = baseUrl.replace('http://', 'http://ci:pa%24s@');
    await caller(withCreds).call('GET', '/users', { query: { token: 'q-secret' } });
    expect(seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('ci:pa$s').toString('base64')}`,
    );
    expect(seen[0]!.url).toBe('/api/v1alpha/users?token=q-secret');
    // non-ASCII credentials are sent as their UTF-8 bytes (built without Buffer, as in browsers)
    await caller(baseUrl.replace('http://', 'http://j%C3%BCrgen:p%C3%A4ss@')).call('GET', '/x');
    expect(seen[1]!.headers.authorization).toBe(
      `Basic ${Buffer.from('jürgen:päss', 'utf8').toString('base64')}`,
    );

    const refused = await rawServer(ignore);
    await new Promise<void>((r) => servers.pop()?.close(() => r()));
    const err = await failure(
      caller(refused.replace('http://', 'http://ci:pa%24s@')).call('GET', '/users', {
        query: { token: 'q-secret' },
      }),
    );
    expect(is(err, codes.unreachable)).toBe(true);
    for (const e of causeChain(err)) {
      expect((e as Error).message).not.toMatch(/q-secret|pa%24s|pa\$s|ci:/);
    }
  });
});

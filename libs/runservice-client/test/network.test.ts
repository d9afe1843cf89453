// The client's own codes and messages for requests and streams that get no (complete) answer,
// against real sockets. The network failure cases themselves are tested in
// @agola-ts/api-client, which this client uses.
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { causeChain, is } from '@agola-ts/errors';
import { RunserviceClientErrorCodes, createRunserviceClient } from '../src/index.js';

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

function listenUrl(server: ReturnType<typeof createServer> | ReturnType<typeof createHttpServer>) {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/api/v1alpha`;
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
  return listenUrl(server);
}

/** A real HTTP server answering every request with `answer`. */
async function httpServer(answer: (res: ServerResponse) => void): Promise<string> {
  const server = createHttpServer((_req, res) => answer(res));
  server.on('connection', (s) => sockets.add(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return listenUrl(server);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

const logRef = { runId: 'r1', taskId: 't1', step: 0 };

describe('network failures', () => {
  it('a refused port is ERR_RUNSERVICE_CLIENT_UNREACHABLE naming method, route and host only', async () => {
    const baseUrl = await rawServer(ignore);
    await new Promise<void>((r) => servers.pop()?.close(() => r())); // the port is now closed
    const rs = createRunserviceClient({ baseUrl });
    const err = await failure(rs.getRuns({ group: ['/project/hidden-group'], limit: 3 }));
    expect(is(err, RunserviceClientErrorCodes.Unreachable)).toBe(true);
    expect(err.message).toMatch(
      /^runservice GET \/runs \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/,
    );
    for (const e of causeChain(err)) {
      expect((e as Error).message).not.toMatch(/hidden-group|limit=/);
    }
  });

  it('a log stream cut in the middle is ERR_RUNSERVICE_CLIENT_CONNECTION_LOST after its first bytes', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nline1\n\r\n');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    const rs = createRunserviceClient({ baseUrl });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of await rs.getLogs(logRef, { follow: true })) {
          got.push(Buffer.from(c).toString());
        }
      })(),
    );
    expect(got.join('')).toBe('line1\n');
    expect(is(err, RunserviceClientErrorCodes.ConnectionLost)).toBe(true);
    expect(err.message).toMatch(
      /^runservice GET \/logs \(127\.0\.0\.1:\d+\): connection lost before the whole answer/,
    );
  });

  it('no answer within timeoutMs is ERR_RUNSERVICE_CLIENT_TIMEOUT; a followed log longer than that is read whole', async () => {
    const silent = await rawServer(ignore);
    const err = await failure(
      createRunserviceClient({ baseUrl: silent, timeoutMs: 300 }).getRun('r1'),
    );
    expect(is(err, RunserviceClientErrorCodes.Timeout)).toBe(true);
    expect(err.message).toMatch(
      /^runservice GET \/runs\/r1 \(127\.0\.0\.1:\d+\): no complete answer within 300 ms/,
    );

    const slow = await httpServer((res) => {
      res.writeHead(200);
      let n = 0;
      const tick = setInterval(() => {
        res.write(`${n}\n`);
        if (++n === 4) {
          clearInterval(tick);
          res.end();
        }
      }, 250);
    });
    const rs = createRunserviceClient({ baseUrl: slow, timeoutMs: 400 });
    const chunks: string[] = [];
    for await (const c of await rs.getLogs(logRef, { follow: true })) {
      chunks.push(Buffer.from(c).toString());
    }
    expect(chunks.join('')).toBe('0\n1\n2\n3\n');
  });

  it('a cancelled log stream is ERR_RUNSERVICE_CLIENT_ABORTED', async () => {
    const baseUrl = await httpServer((res) => {
      res.writeHead(200);
      res.write('first\n'); // and never ends
    });
    const ac = new AbortController();
    const rs = createRunserviceClient({ baseUrl });
    const err = await failure(
      (async () => {
        for await (const _c of await rs.getLogs(logRef, {}, { signal: ac.signal })) ac.abort();
      })(),
    );
    expect(is(err, RunserviceClientErrorCodes.Aborted)).toBe(true);
    expect(err.message).toMatch(/^runservice GET \/logs .*: cancelled/);
  });

  it('a run event that is not JSON is ERR_RUNSERVICE_CLIENT_BAD_RESPONSE', async () => {
    const baseUrl = await httpServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {not json\n\n');
    });
    const rs = createRunserviceClient({ baseUrl });
    const err = await failure(
      (async () => {
        for await (const _e of rs.runEvents({ reconnect: false })) {
          // no event is expected
        }
      })(),
    );
    expect(is(err, RunserviceClientErrorCodes.BadResponse)).toBe(true);
    expect(err.message).toMatch(
      /^runservice GET \/runs\/events \(127\.0\.0\.1:\d+\): a run event is not JSON/,
    );
  });
});

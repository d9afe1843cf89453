// Requests that get no answer: a real refused port, a server that resets the connection
// (before and during the answer), one that never answers, and a cancelled request.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { causeChain, is, RemoteError } from '@agola-ts/errors';
import { ConfigstoreClientErrorCodes, createConfigstoreClient } from '../src/index.js';

const servers: Server[] = [];

function neverAnswer(): void {
  // the request (or a socket error) is left without an answer
}
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A raw TCP server; `onRequest` gets the socket once the request's first bytes arrive. */
async function rawServer(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', neverAnswer);
    socket.once('data', () => onRequest(socket));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/api/v1alpha`;
}

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

describe('network failures', () => {
  it('a refused port is ERR_CONFIGSTORE_CLIENT_UNREACHABLE naming method and route', async () => {
    const baseUrl = await rawServer(neverAnswer);
    await new Promise((r) => servers.pop()?.close(r)); // the port is now closed
    const cs = createConfigstoreClient({ baseUrl });
    const err = await failure(cs.getUser('alice'));
    expect(is(err, ConfigstoreClientErrorCodes.Unreachable)).toBe(true);
    expect(err.message).toMatch(
      /^configstore GET \/users\/alice \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/,
    );
    expect(systemCodes(err)).toContain('ECONNREFUSED');
  });

  it('a reset before the answer is ERR_CONFIGSTORE_CLIENT_CONNECTION_LOST', async () => {
    const baseUrl = await rawServer((socket) => socket.resetAndDestroy());
    const cs = createConfigstoreClient({ baseUrl });
    const err = await failure(cs.createUser({ user_name: 'bob' }));
    expect(is(err, ConfigstoreClientErrorCodes.ConnectionLost)).toBe(true);
    expect(err.message).toMatch(/^configstore POST \/users \(127\.0\.0\.1:\d+\): connection lost/);
    expect(systemCodes(err)).toContain('ECONNRESET');
  });

  it('a reset in the middle of the answer body is ERR_CONFIGSTORE_CLIENT_CONNECTION_LOST', async () => {
    const baseUrl = await rawServer((socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[{"id":',
      );
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const cs = createConfigstoreClient({ baseUrl });
    const err = await failure(cs.getOrgs());
    expect(is(err, ConfigstoreClientErrorCodes.ConnectionLost)).toBe(true);
    expect(err.message).toMatch(
      /^configstore GET \/orgs \(127\.0\.0\.1:\d+\): connection lost before the whole answer/,
    );
  });

  it('a server that never answers is ERR_CONFIGSTORE_CLIENT_TIMEOUT after timeoutMs', async () => {
    const baseUrl = await rawServer(neverAnswer);
    const cs = createConfigstoreClient({ baseUrl, timeoutMs: 300 });
    const err = await failure(cs.deleteOrg('acme'));
    expect(is(err, ConfigstoreClientErrorCodes.Timeout)).toBe(true);
    expect(err.message).toMatch(
      /^configstore DELETE \/orgs\/acme \(127\.0\.0\.1:\d+\): no complete answer within 300 ms: /,
    );
    expect((err.cause as Error | undefined)?.name).toBe('TimeoutError');
  });

  it('a cancelled request is ERR_CONFIGSTORE_CLIENT_ABORTED, not a timeout', async () => {
    const baseUrl = await rawServer(neverAnswer);
    const cs = createConfigstoreClient({ baseUrl, timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = failure(cs.getProject('org/acme/p', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const err = await pending;
    expect(is(err, ConfigstoreClientErrorCodes.Aborted)).toBe(true);
    expect(err.message).toMatch(/^configstore GET \/projects\/org%2Facme%2Fp .*: cancelled: /);
  });

  it('a 2xx answer that is not JSON is ERR_CONFIGSTORE_CLIENT_BAD_RESPONSE', async () => {
    const baseUrl = await rawServer((socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\n<html>hi<'),
    );
    const err = await failure(createConfigstoreClient({ baseUrl }).getUsers());
    expect(is(err, ConfigstoreClientErrorCodes.BadResponse)).toBe(true);
    expect(err.message).toMatch(/^configstore GET \/users .*: the answer is not JSON/);
  });

  it('an error status is still a RemoteError', async () => {
    const body = '{"code":"ERR_NOT_EXIST","message":"nope"}';
    const baseUrl = await rawServer((socket) =>
      socket.end(
        `HTTP/1.1 404 Not Found\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      ),
    );
    const err = await failure(createConfigstoreClient({ baseUrl }).getUser('x'));
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteMessage).toBe('nope');
  });
});

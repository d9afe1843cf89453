// The client's own codes and messages for requests that get no answer, against real sockets.
// The network failure cases themselves (resets, cut streams...) are tested in
// @agola-ts/api-client, which this client uses.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { causeChain, is } from '@agola-ts/errors';
import { ConfigstoreClientErrorCodes, createConfigstoreClient } from '../src/index.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();

function ignore(): void {
  // the request (or a socket error) is left without an answer
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A raw TCP server; `onRequest` gets the socket once the request's first bytes arrive. */
async function rawServer(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', ignore);
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

describe('network failures', () => {
  it('a refused port is ERR_CONFIGSTORE_CLIENT_UNREACHABLE, without query or credentials', async () => {
    const baseUrl = await rawServer(ignore);
    await new Promise((r) => servers.pop()?.close(r)); // the port is now closed
    const cs = createConfigstoreClient({ baseUrl: baseUrl.replace('http://', 'http://u:pw1@') });
    const err = await failure(cs.getUsers({ start: 'tok3n', limit: 5 }));
    expect(is(err, ConfigstoreClientErrorCodes.Unreachable)).toBe(true);
    expect(err.message).toMatch(
      /^configstore GET \/users \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/,
    );
    for (const e of causeChain(err)) expect((e as Error).message).not.toMatch(/tok3n|pw1/);
  });

  it('a reset is ERR_CONFIGSTORE_CLIENT_CONNECTION_LOST', async () => {
    const baseUrl = await rawServer((socket) => socket.resetAndDestroy());
    const err = await failure(createConfigstoreClient({ baseUrl }).createUser({ user_name: 'b' }));
    expect(is(err, ConfigstoreClientErrorCodes.ConnectionLost)).toBe(true);
    expect(err.message).toMatch(/^configstore POST \/users \(127\.0\.0\.1:\d+\): connection lost/);
  });

  it('a server that never answers is ERR_CONFIGSTORE_CLIENT_TIMEOUT after timeoutMs', async () => {
    const baseUrl = await rawServer(ignore);
    const cs = createConfigstoreClient({ baseUrl, timeoutMs: 300 });
    const err = await failure(cs.deleteOrg('acme'));
    expect(is(err, ConfigstoreClientErrorCodes.Timeout)).toBe(true);
    expect(err.message).toMatch(
      /^configstore DELETE \/orgs\/acme \(127\.0\.0\.1:\d+\): no complete answer within 300 ms: /,
    );
  });

  it('a cancelled request is ERR_CONFIGSTORE_CLIENT_ABORTED', async () => {
    const baseUrl = await rawServer(ignore);
    const controller = new AbortController();
    const cs = createConfigstoreClient({ baseUrl, timeoutMs: 60_000 });
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
});

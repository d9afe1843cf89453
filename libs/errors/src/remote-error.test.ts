import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ErrorCodes,
  RemoteError,
  errorFromResponse,
  is,
  parseRemoteError,
  toHttpError,
  notExist,
} from './index.js';

describe('parseRemoteError', () => {
  test('a {code, message} body gives kind, code, message and status', () => {
    const err = parseRemoteError(
      404,
      '{"code":"ERR_TEST_NO_USER","message":"user u1 does not exist"}',
    )!;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.status).toBe(404);
    expect(err.kind).toBe('notexist');
    expect(err.code).toBe('ERR_TEST_NO_USER');
    expect(err.remoteCode).toBe('ERR_TEST_NO_USER');
    expect(err.remoteMessage).toBe('user u1 does not exist');
    expect(err.message).toBe(
      'remote error notexist (code: ERR_TEST_NO_USER) (message: user u1 does not exist)',
    );
  });

  test("Agola v0.7's empty code and message fall back to the kind's code", () => {
    const err = parseRemoteError(400, '{"code":"","message":""}')!;
    expect(err.message).toBe('remote error badrequest');
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(is(err, ErrorCodes.BadRequest)).toBe(true);
  });

  test.each([
    ['plain text', 'Internal Server Error'],
    ['html', '<html><body>502 Bad Gateway</body></html>'],
    ['empty', ''],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a JSON string', '"oops"'],
  ])('a %s body is an unknown api error', (_name, body) => {
    const err = parseRemoteError(502, body)!;
    expect(err.message).toBe('unknown api error (status 502)');
    expect(err.code).toBe('ERR_REMOTE_BAD_RESPONSE');
    expect(err.kind).toBe('internal');
    expect(err.status).toBe(502);
  });

  test('fields of the wrong type are ignored', () => {
    const err = parseRemoteError(403, '{"code":5,"message":{"x":1}}')!;
    expect(err.message).toBe('remote error forbidden');
    expect(err.remoteCode).toBe('');
  });

  test('2xx is not an error', () => {
    expect(parseRemoteError(200, 'whatever')).toBeUndefined();
    expect(parseRemoteError(204, '')).toBeUndefined();
  });

  test('a remote error is never sent on as is: without an ApiError it is a 500', () => {
    const err = parseRemoteError(404, '{"code":"X","message":"secret detail"}')!;
    expect(toHttpError(err).status).toBe(500);
    expect(toHttpError(notExist('project not found', { cause: err })).status).toBe(404);
  });
});

describe('errorFromResponse over real HTTP', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1"}');
          return;
        case '/missing':
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end(JSON.stringify({ code: 'ERR_TEST_MISSING', message: 'org acme does not exist' }));
          return;
        default:
          res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream down');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('2xx gives undefined and leaves the body readable', async () => {
    const res = await fetch(`${base}/ok`);
    expect(await errorFromResponse(res)).toBeUndefined();
    expect(await res.json()).toEqual({ id: '1' });
  });

  test('a JSON error body becomes a RemoteError', async () => {
    const err = await errorFromResponse(await fetch(`${base}/missing`));
    expect(err?.message).toBe(
      'remote error notexist (code: ERR_TEST_MISSING) (message: org acme does not exist)',
    );
    expect(err?.status).toBe(404);
  });

  test('a text error body becomes an unknown api error', async () => {
    const err = await errorFromResponse(await fetch(`${base}/down`));
    expect(err?.message).toBe('unknown api error (status 503)');
    expect(err?.code).toBe('ERR_REMOTE_BAD_RESPONSE');
  });
});

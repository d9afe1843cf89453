import { connect, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  forbidden,
  internalError,
  newError,
  notExist,
  unauthorized,
  wrap,
} from '@agola-ts/errors';
import { API_PREFIX, created, createServiceServer, noContent } from '../src/index.js';
import { createCapturingLogger } from './capture-logger.js';

const { logger, lines } = createCapturingLogger();
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = createServiceServer({ logger, name: 'testsvc' });
  await app.register(
    async (api) => {
      api.get<{ Params: { kind: string } }>('/fail/:kind', async (req) => {
        switch (req.params.kind) {
          case 'badrequest':
            throw badRequest('user name "1x" is invalid', { code: 'ERR_TEST_INVALID_NAME' });
          case 'unauthorized':
            throw unauthorized('no token');
          case 'forbidden':
            throw forbidden('not an admin');
          case 'notexist':
            throw notExist('user "bob" does not exist');
          case 'internal':
            throw internalError('the readdb is locked', {
              cause: wrap(newError('disk exploded'), 'reading data file'),
            });
          default:
            throw wrap(newError('secret detail 42'), 'plain failure');
        }
      });
      api.get('/things/:id', async (req) => ({ id: (req.params as { id: string }).id }));
      api.post('/things', async (req, reply) => created(reply, { created: req.body }));
      api.delete('/things/:id', async (_req, reply) => noContent(reply));
    },
    { prefix: API_PREFIX },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${API_PREFIX}`;
});

afterAll(async () => {
  await app.close();
});

async function json(res: Response): Promise<unknown> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return res.json();
}

describe('createServiceServer', () => {
  it('answers an unknown path with a JSON 404', async () => {
    const res = await fetch(`${base}/nope?x=1`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_NO_ROUTE',
      message: 'no route for GET /api/v1alpha/nope',
    });
  });

  it('answers a known path with a wrong method with a JSON 405 and Allow', async () => {
    const res = await fetch(`${base}/things/7`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, GET, HEAD');
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_METHOD_NOT_ALLOWED',
      message: 'method PUT not allowed on /api/v1alpha/things/7 (allowed: DELETE, GET, HEAD)',
    });
  });

  it('answers a body over the limit with a JSON 413', async () => {
    const res = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_BODY_TOO_LARGE',
      message: 'request body is larger than the limit of 1048576 bytes',
    });
  });

  it('answers bad JSON, an empty JSON body and a wrong content type with a JSON 400', async () => {
    const post = (body: string, type: string) =>
      fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': type }, body });
    let res = await post('{"name": ', 'application/json');
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_INVALID_BODY',
      message: 'request body is not valid JSON',
    });
    res = await post('', 'application/json');
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_INVALID_BODY',
      message: 'request body is empty: expected JSON',
    });
    res = await post('name=x', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_UNSUPPORTED_CONTENT_TYPE',
      message:
        'unsupported content type "application/x-www-form-urlencoded": send application/json',
    });
  });

  it.each([
    ['badrequest', 400, 'ERR_TEST_INVALID_NAME', 'user name "1x" is invalid'],
    ['unauthorized', 401, 'ERR_UNAUTHORIZED', 'no token'],
    ['forbidden', 403, 'ERR_FORBIDDEN', 'not an admin'],
    ['notexist', 404, 'ERR_NOT_EXIST', 'user "bob" does not exist'],
  ])('maps a %s error to %i with its code and message', async (kind, status, code, message) => {
    const res = await fetch(`${base}/fail/${kind}`);
    expect(res.status).toBe(status);
    expect(await json(res)).toEqual({ code, message });
  });

  it.each(['internal', 'plain'])(
    'answers a %s error with only "internal server error" and logs the chain',
    async (kind) => {
      const res = await fetch(`${base}/fail/${kind}`, {
        headers: { 'x-request-id': `req-${kind}` },
      });
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('{"code":"ERR_INTERNAL","message":"internal server error"}');
      const line = lines.find((l) => l['reqId'] === `req-${kind}` && l['level'] === 50);
      expect(line?.['service']).toBe('testsvc');
      const err = line?.['err'] as { message: string; details: string[] };
      expect(err.message).toBe(
        kind === 'internal'
          ? 'the readdb is locked: reading data file: disk exploded'
          : 'plain failure: secret detail 42',
      );
      expect(err.details.length).toBeGreaterThanOrEqual(2);
    },
  );

  it('echoes a valid x-request-id and generates one otherwise', async () => {
    let res = await fetch(`${base}/things/1`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(lines.some((l) => l['reqId'] === 'abc-123')).toBe(true);
    res = await fetch(`${base}/things/1`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    res = await fetch(`${base}/things/1`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    res = await fetch(`${base}/nope`, { headers: { 'x-request-id': 'on-404' } });
    expect(res.headers.get('x-request-id')).toBe('on-404');
  });

  it('never logs query values (they can be tokens)', async () => {
    await fetch(`${base}/things/1?query_type=bytoken&token=s3cr3t-t0ken&limit=5`, {
      headers: { 'x-request-id': 'token-query' },
    });
    const mine = lines.filter((l) => l['reqId'] === 'token-query');
    expect(mine.length).toBeGreaterThan(0);
    expect(JSON.stringify(mine)).not.toContain('s3cr3t-t0ken');
    const incoming = mine.find((l) => l['req'] !== undefined) as {
      req: { url: string; method: string };
    };
    expect(incoming.req).toMatchObject({
      method: 'GET',
      url: `${API_PREFIX}/things/1?query_type=…&token=…&limit=…`,
    });
  });

  it('answers 201 with a body on create and 204 without one on delete', async () => {
    let res = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a' }),
    });
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ created: { name: 'a' } });
    res = await fetch(`${base}/things/1`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('answers a body nested deeper than the limit with a JSON 400, before parsing it', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const res = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"a":${deep}}`,
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      code: 'ERR_SERVICE_BODY_TOO_DEEP',
      message: 'request body nests deeper than 64 levels',
    });
    // at the limit it is a body like any other
    const ok = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"a":${'['.repeat(63)}${']'.repeat(63)}}`,
    });
    expect(ok.status).toBe(201);
  });

  it('still refuses __proto__ keys in JSON bodies', async () => {
    const res = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__": {"admin": true}}',
    });
    expect(res.status).toBe(400);
    expect(((await json(res)) as { code: string }).code).toBe('ERR_SERVICE_INVALID_BODY');
  });

  it('answers a too long path segment with a JSON 414 that does not echo the URL', async () => {
    const res = await fetch(`${base}/things/${'x'.repeat(3000)}?token=t0ken-in-414`);
    expect(res.status).toBe(414);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      code: 'ERR_SERVICE_URL_TOO_LONG',
      message: 'a path segment of the URL is longer than the server routes',
    });
    expect(text).not.toContain('xxx');
  });

  it('answers a URL that cannot be decoded with a JSON 400 that does not echo it', async () => {
    const res = await fetch(`${base}/things/%E0%A4%A?token=t0ken-in-bad-url`);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      code: 'ERR_SERVICE_BAD_REQUEST',
      message: 'the URL is not valid',
    });
    expect(JSON.stringify(lines)).not.toContain('t0ken-in-bad-url');
  });

  it('answers headers too large with a JSON 431 and never logs the raw request', async () => {
    const { port } = app.server.address() as AddressInfo;
    const secret = 't0ken-in-431';
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `GET ${API_PREFIX}/things/1?token=${secret} HTTP/1.1\r\nHost: x\r\n` +
            `x-big: ${'y'.repeat(20_000)}\r\n\r\n`,
        );
      });
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({
      code: 'ERR_SERVICE_HEADERS_TOO_LARGE',
      message: 'the request line and headers are larger than the server accepts',
    });
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('masks query values in the line of every 4xx and 500', async () => {
    const secret = 'v4lue-of-a-t0ken';
    for (const kind of ['badrequest', 'notexist', 'internal', 'plain']) {
      await fetch(`${base}/fail/${kind}?token=${secret}&x=${secret}`);
    }
    await fetch(`${base}/nope?token=${secret}`);
    await fetch(`${base}/things/1?token=${secret}`, { method: 'PUT' });
    const failed = lines.filter(
      (l) =>
        String(l['msg']).startsWith('GET /api/v1alpha/fail/') &&
        String(l['msg']).includes('?token=…'),
    );
    expect(failed.length).toBe(4);
    expect(failed.map((l) => l['msg'])).toContain(
      'GET /api/v1alpha/fail/internal?token=…&x=… failed',
    );
    expect(JSON.stringify(lines)).not.toContain(secret);
  });
});

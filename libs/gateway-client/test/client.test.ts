import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { is, RemoteError } from '@agola-ts/errors';
import { createGatewayClient, GatewayClientErrorCodes } from '../src/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A local HTTP server answering with `handler`; returns its base URL. */
async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('gateway client', () => {
  test('sends the route, the encoded ref, the credentials and the JSON body', async () => {
    const seen: { method?: string; url?: string; auth?: string; body?: string }[] = [];
    const url = await serve((req, res, body) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      json(res, req.method === 'POST' ? 201 : 200, { id: 'p1', name: 'app' });
    });
    const gw = createGatewayClient({ baseUrl: `${url}/`, token: 'tok' });
    await gw.getProject('org/acme/app');
    gw.setBearer('jwt');
    await gw.createSecret('projectgroup', 'user/al', { name: 's', data: { a: 'b' } });
    await gw.getSecrets('project', 'p1', { tree: true, removeOverridden: true });
    await gw.getRuns(
      { kind: 'user', ref: 'al' },
      { phase: ['running', 'queued'], limit: 5, asc: true },
    );
    expect(seen).toEqual([
      { method: 'GET', url: '/api/v1alpha/projects/org%2Facme%2Fapp', auth: 'token tok', body: '' },
      {
        method: 'POST',
        url: '/api/v1alpha/projectgroups/user%2Fal/secrets',
        auth: 'bearer jwt',
        body: JSON.stringify({ name: 's', data: { a: 'b' } }),
      },
      {
        method: 'GET',
        url: '/api/v1alpha/projects/p1/secrets?tree=&removeoverridden=',
        auth: 'bearer jwt',
        body: '',
      },
      {
        method: 'GET',
        url: '/api/v1alpha/users/al/runs?phase=running&phase=queued&limit=5&asc=',
        auth: 'bearer jwt',
        body: '',
      },
    ]);
  });

  test('error answers reject with RemoteError (status, kind, code, message)', async () => {
    const url = await serve((req, res) => {
      if (req.url?.includes('/orgs/'))
        json(res, 403, { code: 'ERR_GATEWAY_FORBIDDEN', message: 'org owner required' });
      else {
        res.writeHead(502);
        res.end('bad gateway');
      }
    });
    const gw = createGatewayClient({ baseUrl: url });
    const err = await failure(gw.deleteOrg('acme'));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({
      status: 403,
      kind: 'forbidden',
      remoteCode: 'ERR_GATEWAY_FORBIDDEN',
      remoteMessage: 'org owner required',
    });
    const proxy = await failure(gw.getCurrentUser());
    expect(proxy).toBeInstanceOf(RemoteError);
    expect((proxy as RemoteError).status).toBe(502);
  });

  test('no answer: unreachable, timeout, aborted, bad JSON', async () => {
    // a port nothing listens on any more
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dead = createGatewayClient({ baseUrl: `http://127.0.0.1:${port}` });
    expect(is(await failure(dead.getVersion()), GatewayClientErrorCodes.Unreachable)).toBe(true);
    const slow = await serve(() => undefined);
    const timed = createGatewayClient({ baseUrl: slow, timeoutMs: 100 });
    expect(is(await failure(timed.getVersion()), GatewayClientErrorCodes.Timeout)).toBe(true);
    const controller = new AbortController();
    const pending = failure(
      createGatewayClient({ baseUrl: slow }).getVersion({ signal: controller.signal }),
    );
    controller.abort();
    expect(is(await pending, GatewayClientErrorCodes.Aborted)).toBe(true);
    const broken = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"service":');
    });
    expect(
      is(
        await failure(createGatewayClient({ baseUrl: broken }).getVersion()),
        GatewayClientErrorCodes.BadResponse,
      ),
    ).toBe(true);
  });

  test('logs stream as chunks as they come; an error status rejects before streaming', async () => {
    const url = await serve((req, res) => {
      if (req.url?.includes('/tasks/missing/')) {
        json(res, 404, { code: 'ERR_NOT_EXIST', message: 'no such task' });
        return;
      }
      expect(req.url).toBe('/api/v1alpha/projects/p1/runs/3/tasks/t1/logs?step=1&follow=');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line 1\n');
      setTimeout(() => res.end('line 2\n'), 50);
    });
    const gw = createGatewayClient({ baseUrl: url, timeoutMs: 10 });
    const owner = { kind: 'project', ref: 'p1' } as const;
    let text = '';
    let chunks = 0;
    for await (const c of await gw.getLogs(owner, 3, 't1', { step: 1, follow: true })) {
      text += Buffer.from(c).toString();
      chunks++;
    }
    // the stream outlived the 10 ms request timeout
    expect(text).toBe('line 1\nline 2\n');
    expect(chunks).toBeGreaterThanOrEqual(2);
    const err = await failure(gw.getLogs(owner, 3, 'missing', { setup: true }));
    expect((err as RemoteError).status).toBe(404);
  });
  test('maintenance, export and import: the admin routes, the export as chunks, the import body sent as bytes or a stream', async () => {
    const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
    const url = await serve((req, res, body) => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      if (req.url?.startsWith('/api/v1alpha/export/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('{"id":"a"}\n');
        setTimeout(() => res.end('{"id":"b"}\n'), 20);
        return;
      }
      res.writeHead(req.method === 'POST' ? 204 : 200);
      res.end();
    });
    const gw = createGatewayClient({ baseUrl: url, token: 'admin' });
    await gw.enableMaintenance('configstore');
    await gw.disableMaintenance('runservice');
    let text = '';
    for await (const c of await gw.exportData('configstore')) text += Buffer.from(c).toString();
    expect(text).toBe('{"id":"a"}\n{"id":"b"}\n');
    await gw.importData('configstore', new TextEncoder().encode('bytes\n'));
    await gw.importData(
      'runservice',
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('one\n'));
          c.enqueue(new TextEncoder().encode('two\n'));
          c.close();
        },
      }),
    );
    expect(seen).toEqual([
      { method: 'PUT', url: '/api/v1alpha/maintenance/configstore', type: undefined, body: '' },
      { method: 'DELETE', url: '/api/v1alpha/maintenance/runservice', type: undefined, body: '' },
      { method: 'GET', url: '/api/v1alpha/export/configstore', type: undefined, body: '' },
      {
        method: 'POST',
        url: '/api/v1alpha/import/configstore',
        type: 'application/octet-stream',
        body: 'bytes\n',
      },
      {
        method: 'POST',
        url: '/api/v1alpha/import/runservice',
        type: 'application/octet-stream',
        body: 'one\ntwo\n',
      },
    ]);
  });

  test('an export cut before its end rejects, never ends like a complete one', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write('{"id":"a"}\n');
      setTimeout(() => res.destroy(), 20);
    });
    const gw = createGatewayClient({ baseUrl: url, token: 'admin' });
    const err = await failure(
      (async () => {
        for await (const c of await gw.exportData('runservice')) void c;
      })(),
    );
    expect(is(err, GatewayClientErrorCodes.ConnectionLost)).toBe(true);
  });

  test('the badge is the SVG text; a connection cut mid-stream fails the log iteration with a coded error', async () => {
    const url = await serve((req, res) => {
      if (req.url?.startsWith('/api/v1alpha/badges/')) {
        expect(req.url).toBe('/api/v1alpha/badges/org%2Facme%2Fapp?branch=main');
        res.writeHead(200, { 'content-type': 'image/svg+xml' });
        res.end('<svg>passed</svg>');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial\n');
      setTimeout(() => res.destroy(), 30);
    });
    const gw = createGatewayClient({ baseUrl: url });
    expect(await gw.getBadge('org/acme/app', 'main')).toBe('<svg>passed</svg>');
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        const logs = await gw.getLogs({ kind: 'project', ref: 'p1' }, 1, 't1', { step: 0 });
        for await (const c of logs) seen.push(Buffer.from(c).toString());
      })(),
    );
    expect(seen).toEqual(['partial\n']);
    expect(is(err, GatewayClientErrorCodes.ConnectionLost)).toBe(true);
    // the message names the route, never the credentials or the query
    expect((err as Error).message).toContain('gateway GET /projects/p1/runs/1/tasks/t1/logs');
  });

  test('browser-safe: the client and its HTTP layer import no node: modules and use no Buffer or process', async () => {
    const dirs = [
      new URL('../src/', import.meta.url),
      new URL('../../api-client/src/', import.meta.url),
    ];
    let files = 0;
    for (const dir of dirs) {
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
        const text = await readFile(new URL(name, dir), 'utf8');
        files++;
        expect(text, name).not.toMatch(/from '(node:|fs|path|http|https|net|url|util|stream)['/]/);
        expect(text, name).not.toMatch(/\bBuffer\.|\bprocess\.|\brequire\(/);
      }
    }
    expect(files).toBeGreaterThanOrEqual(6);
  });
});

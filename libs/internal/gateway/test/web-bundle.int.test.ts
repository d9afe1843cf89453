import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, GatewayErrorCodes, type Gateway } from '../src/index.js';

const INDEX = '<!doctype html><div id="app"></div><!-- web bundle index -->';
const APP_JS = 'console.log("app-3f9a1c");';
const SECRET = 'outside-the-bundle-secret-7e1d';

let dir: string;
let gw: Gateway;
let origin: string;

/** A raw GET: the path is sent exactly as given (fetch would normalize `..`). */
function rawGet(path: string): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}/`, { method: 'GET', path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function gatewayWith(bundlePath: string): Gateway {
  return createGateway({
    apiExposedURL: 'http://agola.example:8000',
    webExposedURL: 'http://agola.example:8000',
    // nothing here needs them: the web bundle is served by the gateway alone
    configstoreURL: 'http://127.0.0.1:9',
    runserviceURL: 'http://127.0.0.1:9',
    web: { listen: { host: '127.0.0.1', port: 0 }, bundlePath },
    tokenSigning: { method: 'hmac', key: 'web-bundle-test-key' },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-web-'));
  const bundle = join(dir, 'bundle');
  await mkdir(join(bundle, 'assets'), { recursive: true });
  await writeFile(join(bundle, 'index.html'), INDEX);
  await writeFile(join(bundle, 'assets', 'app-3f9a1c.js'), APP_JS);
  await writeFile(join(bundle, 'favicon.svg'), '<svg/>');
  await writeFile(join(dir, 'secret.txt'), SECRET);
  // a link inside the bundle to a file outside it
  await symlink(join(dir, 'secret.txt'), join(bundle, 'assets', 'leak.js'));
  gw = gatewayWith(bundle);
  await gw.start();
  origin = `http://127.0.0.1:${gw.port}`;
});

afterAll(async () => {
  await gw?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the web bundle served by the gateway', () => {
  it('GET /config.js sets window.CONFIG to the exposed API URL and prefix, never cached', async () => {
    const res = await fetch(`${origin}/config.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const text = await res.text();
    expect(text).toBe(
      'window.CONFIG = {"API_URL":"http://agola.example:8000","API_BASE_PATH":"/api/v1alpha"};\n',
    );
  });

  it('answers index.html (no-cache) for / and every page path, with or without a query', async () => {
    for (const path of [
      '/',
      '/index.html',
      '/login',
      '/org/acme/projects/infra/p1.proj/runs/3',
      '/run?projectref=abc&runnumber=2',
    ]) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(await res.text(), path).toBe(INDEX);
    }
  });

  it('serves hashed assets as immutable and other files as no-cache', async () => {
    const js = await fetch(`${origin}/assets/app-3f9a1c.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe(APP_JS);
    const svg = await fetch(`${origin}/favicon.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
  });

  it('a missing file is a 404, not index.html', async () => {
    for (const path of ['/assets/gone-123.js', '/assets/page', '/robots.txt', '/x/y.css']) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('web bundle index');
    }
  });

  it('leaves the API, /repos, /webhooks and /badges paths to their routes (JSON answers, never the page)', async () => {
    const version = await fetch(`${origin}/api/v1alpha/version`);
    expect(version.status).toBe(200);
    expect(((await version.json()) as { service: string }).service).toBe('gateway');
    // GET /webhooks: the route exists for POST only; /repos is the git proxy, which asks for
    // the repository owner's credentials first
    for (const [path, status] of [
      ['/api/v1alpha/nothing', 404],
      ['/api', 404],
      ['/repos/a/b.git', 401],
      ['/webhooks', 405],
      ['/badges/p', 404],
    ] as const) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type'), path).toMatch(/json/);
    }
    // other methods on unknown paths keep their plain 404
    const post = await fetch(`${origin}/api/v1alpha/nothing`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('refuses path traversal: dot segments, encoded slashes and symlinks out of the bundle', async () => {
    for (const path of [
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets%5c..%5c..%5csecret.txt',
      '/assets/a%00.js',
      '/../secret.txt',
      '/assets/../../secret.txt',
    ]) {
      const res = await rawGet(path);
      expect(res.body, path).not.toContain(SECRET);
      expect([400, 404], path).toContain(res.status);
    }
    const leak = await rawGet('/assets/leak.js');
    expect(leak.status).toBe(404);
    expect(leak.body).not.toContain(SECRET);
  });

  it('a bundle directory without index.html fails the start with a config error', async () => {
    const bad = gatewayWith(join(dir, 'no-such-bundle'));
    await expect(bad.start()).rejects.toMatchObject({ code: GatewayErrorCodes.InvalidConfig });
  });
});

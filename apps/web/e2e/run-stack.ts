// The stack the run-page browser tests need: `agola serve` (every component, embedded etcd,
// local executor) whose gateway reads run configs from a small raw-file server standing in
// for the git server (direct runs fetch `.agola/config.yml` from it), the built web bundle
// served on its own origin with `/api` proxied to the gateway, and headless Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** apps/web: the first folder up from this file with the vite config (this file is also bundled into bench/dist). */
function webRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'vite.config.ts'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('apps/web not found above the e2e helpers');
    dir = up;
  }
  return dir;
}
const WEB_ROOT = webRoot();
const AGOLA_MAIN = join(WEB_ROOT, '../agola/dist/main.js');
const WEB_DIST = join(WEB_ROOT, 'dist');
/** Screenshots for CI artifacts. */
export const ARTIFACTS = join(WEB_ROOT, 'e2e-artifacts');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    }),
  );

/** A running stack. */
export interface RunStack {
  gatewayURL: string;
  /** Where the browser opens the web UI. */
  webURL: string;
  adminToken: string;
  /** The run config served for every repository (change it between runs). */
  files: Record<string, string>;
  /** Calls the gateway API as `token` (the admin token when omitted); throws on an error status. */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the stack; `files` maps repository paths to contents (`.agola/config.yml`). */
export async function startRunStack(files: Record<string, string>): Promise<RunStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'agola-web-run-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    // the git server stand-in: GET /<user>/<repo>.git/raw/<sha>/<file>
    const raw = createServer((req, res) => {
      const m = /^\/[^/]+\/[^/]+\.git\/raw\/[^/]+\/(.+)$/.exec(req.url ?? '');
      const file = m?.[1] ? decodeURIComponent(m[1]) : undefined;
      if (file !== undefined && Object.hasOwn(files, file)) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(files[file]);
      } else res.writeHead(404).end('not found');
    });
    const rawPort = await listen(raw);
    cleanups.push(() => new Promise((r) => raw.close(() => r())));

    const p = {
      gateway: await freePort(),
      configstore: await freePort(),
      runservice: await freePort(),
      executor: await freePort(),
    };
    const adminToken = `admin-${process.pid}-${Date.now()}`;
    const gatewayURL = `http://127.0.0.1:${p.gateway}`;
    const rs = `http://127.0.0.1:${p.runservice}`;
    const config = `gateway:
  apiExposedURL: ${gatewayURL}
  webExposedURL: ${gatewayURL}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p.configstore}
  gitserverURL: http://127.0.0.1:${rawPort}
  adminToken: ${adminToken}
  web:
    listenAddress: 127.0.0.1:${p.gateway}
  tokenSigning:
    method: hmac
    key: web-e2e-signing-key-${process.pid}
scheduler:
  runserviceURL: ${rs}
configstore:
  dataDir: ${dataDir}/configstore
  web:
    listenAddress: 127.0.0.1:${p.configstore}
  objectStorage:
    type: posix
    path: ${dataDir}/configstore/ost
runservice:
  dataDir: ${dataDir}/runservice
  web:
    listenAddress: 127.0.0.1:${p.runservice}
  objectStorage:
    type: posix
    path: ${dataDir}/runservice/ost
executor:
  dataDir: ${dataDir}/executor
  runserviceURL: ${rs}
  web:
    listenAddress: 127.0.0.1:${p.executor}
  driver:
    type: local
`;
    const configPath = join(dataDir, 'config.yml');
    await writeFile(configPath, config);
    const log = createWriteStream(join(dataDir, 'serve.log'));
    const child: ChildProcess = spawn(
      process.execPath,
      [AGOLA_MAIN, 'serve', '--config', configPath, '--components', 'all-base,executor'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stdout?.pipe(log);
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      log.end();
    });
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`agola serve exited: ${stderr.trim()}`);
      if (Date.now() - started > 60_000) throw new Error('agola serve is not ready after 60 s');
      const ok = await fetch(`${gatewayURL}/health`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const web = createServer((req, res) => void serveWeb(req, res, gatewayURL, webURLRef.url));
    const webURLRef = { url: '' };
    webURLRef.url = `http://127.0.0.1:${await listen(web)}`;
    cleanups.push(() => new Promise((r) => web.close(() => r())));
    // open log streams would hold the close
    cleanups.push(async () => web.closeAllConnections());

    const api = async <T>(method: string, path: string, body?: unknown, token = adminToken) => {
      const res = await fetch(`${gatewayURL}/api/v1alpha${path}`, {
        method,
        headers: {
          authorization: `token ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return { gatewayURL, webURL: webURLRef.url, adminToken, files, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The web bundle with history routing, `/config.js`, and `/api` proxied to the gateway. */
async function serveWeb(
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  gatewayURL: string,
  webURL: string,
): Promise<void> {
  const url = req.url ?? '/';
  if (url.startsWith('/api/') || url.startsWith('/badges/')) {
    const target = new URL(url, gatewayURL);
    const up = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
    res.on('close', () => up.destroy());
    return;
  }
  if (url === '/config.js') {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-cache' });
    res.end(
      `window.CONFIG = ${JSON.stringify({ API_URL: webURL, API_BASE_PATH: '/api/v1alpha' })};`,
    );
    return;
  }
  const path = normalize(join(WEB_DIST, decodeURIComponent(url.split('?')[0] ?? '/')));
  let file = join(WEB_DIST, 'index.html');
  if (path.startsWith(WEB_DIST + sep)) {
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile()) file = path;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
}

/** Headless Debian Chromium. */
export async function openBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A browser context logged in with a user API token (as the login page stores it). */
export async function loggedIn(browser: Browser, token: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((t) => localStorage.setItem('api_token', t), token);
  return context;
}

/** Saves a screenshot under e2e-artifacts/. */
export async function screenshot(
  page: import('playwright-core').Page,
  name: string,
): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Whether the built bundle and the agola CLI exist (the nx test target builds both). */
export async function prerequisites(): Promise<string | undefined> {
  for (const f of [AGOLA_MAIN, join(WEB_DIST, 'index.html')]) {
    if (!(await stat(f).catch(() => undefined))) return `${f} is missing: build it first`;
  }
  if (!(await stat(process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium').catch(() => undefined)))
    return 'chromium is missing (apt-get install chromium)';
  return undefined;
}

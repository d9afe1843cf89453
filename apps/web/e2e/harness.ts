/**
 * The browser tests' harness: a real `agola serve` (all-base + executor with the local driver,
 * embedded etcd, the built web bundle), a simulated Gitea forge (the remote source), and
 * headless Chromium (Debian's `/usr/bin/chromium`) driven by playwright-core.
 *
 * Reuse it from any `e2e/*.e2e.test.ts`:
 * ```ts
 * const stack = await startStack();
 * const alice = await stack.addUser('alice');
 * const project = await stack.createProject(alice, { name: 'demo' });
 * await stack.push(project, { '.agola/config.yml': SIMPLE_CONFIG });
 * const browser = await openBrowser();
 * const page = await browser.newPage(stack, alice);   // logged in with alice's API token
 * await page.goto(`${stack.url}/`);
 * await browser.screenshot(page, 'home');
 * ```
 * Needs `apps/agola` and `apps/web` built (the nx `test` target builds both first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  createGatewayClient,
  type GatewayClient,
  type ProjectResponse,
  type RunsResponse,
  type UserResponse,
} from '@agola-ts/gateway-client';
import { getFreePort, startForge, type Forge } from '@agola-ts/testkit';

const here = dirname(fileURLToPath(import.meta.url));
/** The built `agola` command. */
export const AGOLA_MAIN = join(here, '../../agola/dist/agola.cjs');
/** The built web bundle. */
export const WEB_BUNDLE = join(here, '../dist');
/** Where screenshots go (gitignored; CI keeps them). */
export const ARTIFACTS = join(here, '../e2e-artifacts');
/** The Chromium binary (Debian's `chromium` package, installed by tools/lib/setup.sh). */
export const CHROMIUM = process.env['AGOLA_E2E_CHROMIUM'] ?? '/usr/bin/chromium';

/** The admin token of the stack's gateway. */
export const ADMIN_TOKEN = 'e2e-admin-token-5d1c8a';
/** The forge password of every user {@link Stack.addUser} creates. */
export const FORGE_PASSWORD = 'forge-password';

/** A run config of two tasks (build, then test), both succeeding quickly. */
export const SIMPLE_CONFIG = `
runs:
  - name: ci
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
        steps:
          - run:
              name: compile
              command: echo "compiling"; echo "built"
      - name: test
        depends: [build]
        runtime:
          containers:
            - image: busybox
        steps:
          - run:
              name: unit tests
              command: echo "3 tests passed"
`;

/** A user of the stack: an Agola user linked to a forge account, with an API token. */
export interface StackUser {
  login: string;
  user: UserResponse;
  /** An Agola user API token (send as `Authorization: token`). */
  token: string;
  /** A gateway client logged in with {@link token}. */
  client: GatewayClient;
}

/** A running stack. */
export interface Stack {
  /** The gateway's root URL: the web UI is at `/`, the API at `/api/v1alpha`. */
  url: string;
  /** A gateway client with the admin token. */
  admin: GatewayClient;
  /** The simulated forge behind the remote source. */
  forge: Forge;
  /** The name of the forge's remote source (password auth, login and registration enabled). */
  remoteSource: string;
  /** Creates a forge user and registers it in Agola (linked account), with an API token. */
  addUser(login: string): Promise<StackUser>;
  /**
   * Creates a forge repo `<owner>/<name>` and its Agola project (through the API, as `owner`:
   * deploy key and webhook on the forge) under `parentRef` (default: the owner's root group).
   */
  createProject(
    owner: StackUser,
    o: { name: string; parentRef?: string; visibility?: 'public' | 'private' },
  ): Promise<ProjectResponse & { repoPath: string }>;
  /** Commits files to a project's repo; the push webhook makes a run. Resolves with the sha. */
  push(
    project: { repoPath: string },
    files: Record<string, string>,
    o?: { branch?: string; message?: string },
  ): Promise<string>;
  /** Polls a project's runs until `until` holds for the list (90 s: CI shares 2 cores). */
  waitRuns(
    client: GatewayClient,
    projectRef: string,
    until: (runs: RunsResponse[]) => boolean,
  ): Promise<RunsResponse[]>;
  /** The `agola serve` output so far (for failure messages). */
  output(): string;
  /** Stops `agola serve` and the forge, and removes the data. */
  stop(): Promise<void>;
}

function configText(dir: string, p: Record<string, number>): string {
  const rs = `http://127.0.0.1:${p['runservice']}`;
  const gw = `http://127.0.0.1:${p['gateway']}`;
  return `
gateway:
  apiExposedURL: ${gw}
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p['configstore']}
  web: { listenAddress: 127.0.0.1:${p['gateway']}, bundlePath: ${JSON.stringify(WEB_BUNDLE)} }
  tokenSigning: { method: hmac, key: e2e-signing-key-0123456789abcdef }
  adminToken: ${ADMIN_TOKEN}
scheduler:
  runserviceURL: ${rs}
  web: { listenAddress: 127.0.0.1:${p['scheduler']} }
notification:
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p['configstore']}
gitserver:
  dataDir: ${dir}/gitserver
  web: { listenAddress: '127.0.0.1:0' }
configstore:
  dataDir: ${dir}/configstore
  web: { listenAddress: 127.0.0.1:${p['configstore']} }
  objectStorage: { type: posix, path: ${dir}/configstore/ost }
runservice:
  dataDir: ${dir}/runservice
  web: { listenAddress: 127.0.0.1:${p['runservice']} }
  objectStorage: { type: posix, path: ${dir}/runservice/ost }
executor:
  dataDir: ${dir}/executor
  runserviceURL: ${rs}
  web: { listenAddress: 127.0.0.1:${p['executor']} }
  driver: { type: local }
`;
}

async function waitHealthy(url: string, child: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`agola serve exited:\n${out().slice(-4000)}`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after 60 s:\n${out().slice(-4000)}`);
}

/** Polls `fn` until it returns a value other than undefined. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not reached after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/**
 * Starts the stack: the forge, `agola serve` and a remote source for the forge. The ports are
 * picked free before `agola serve` starts, and its embedded etcd picks its own: when one of
 * them took a port picked for another (EADDRINUSE), the stack is started again on new ports.
 */
export async function startStack(): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce();
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err;
    }
  }
}

async function startStackOnce(): Promise<Stack> {
  for (const [what, path] of [
    ['apps/agola (npx nx build @agola-ts/agola)', AGOLA_MAIN],
    ['apps/web (npx nx build @agola-ts/web)', join(WEB_BUNDLE, 'index.html')],
  ] as const) {
    if (!existsSync(path)) throw new Error(`build ${what} first: ${path} is missing`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'agola-web-e2e-'));
  const forge = await startForge({ type: 'gitea', sshURLAsHTTP: true });
  const ports: Record<string, number> = {};
  for (const name of ['gateway', 'executor', 'configstore', 'runservice', 'scheduler']) {
    ports[name] = await getFreePort();
  }
  const configPath = join(dir, 'config.yml');
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(configPath, configText(join(dir, 'data'), ports));
  const child = spawn(
    process.execPath,
    [AGOLA_MAIN, 'serve', '--config', configPath, '--components', 'all-base,executor'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await forge.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of Object.values(ports)) {
      await waitHealthy(`http://127.0.0.1:${port}/health`, child, () => out);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `http://127.0.0.1:${ports['gateway']}`;
  const admin = createGatewayClient({ baseUrl: url, token: ADMIN_TOKEN });
  const remoteSource = 'forge';
  await admin.createRemoteSource({
    name: remoteSource,
    apiurl: forge.apiURL,
    type: 'gitea',
    auth_type: 'password',
    skip_ssh_host_key_check: true,
    registration_enabled: true,
    login_enabled: true,
  });

  const addUser = async (login: string): Promise<StackUser> => {
    forge.addUser({ login, password: FORGE_PASSWORD });
    const anonymous = createGatewayClient({ baseUrl: url });
    await anonymous.register({
      username: login,
      remote_source_name: remoteSource,
      remote_source_login_name: login,
      remote_source_login_password: FORGE_PASSWORD,
    });
    const { token } = await admin.createUserToken(login, 'e2e');
    const client = createGatewayClient({ baseUrl: url, token });
    return { login, user: await client.getCurrentUser(), token, client };
  };

  return {
    url,
    admin,
    forge,
    remoteSource,
    addUser,
    async createProject(owner, o) {
      const repo = await forge.createRepo({ owner: owner.login, name: o.name });
      const project = await owner.client.createProject({
        name: o.name,
        parent_ref: o.parentRef ?? `user/${owner.login}`,
        visibility: o.visibility ?? 'public',
        repo_path: repo.path,
        remote_source_name: remoteSource,
        skip_ssh_host_key_check: true,
      });
      return { ...project, repoPath: repo.path };
    },
    async push(project, files, o = {}) {
      const sha = await forge.commit({
        repo: project.repoPath,
        files,
        message: o.message ?? 'ci',
        branch: o.branch ?? 'main',
      });
      await forge.settled();
      return sha;
    },
    waitRuns(client, projectRef, until) {
      return eventually(
        async () => {
          const runs = await client.getRuns({ kind: 'project', ref: projectRef });
          return until(runs) ? runs : undefined;
        },
        90_000,
        `runs of ${projectRef}`,
      );
    },
    output: () => out,
    stop,
  };
}

/** A headless Chromium with helpers for logged-in pages and screenshots. */
export interface E2EBrowser {
  browser: Browser;
  /**
   * A new page (own context: own localStorage). With `user` (or `{ token }`) it is logged in
   * with that API token before any script of the app runs.
   */
  newPage(stack: Stack, user?: { token: string }): Promise<Page>;
  /** Saves a full-page screenshot as `e2e-artifacts/<name>.png`. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Messages of uncaught page errors seen so far (a test can assert none). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless (no sandbox: tests may run as root). */
export async function openBrowser(): Promise<E2EBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (tools/lib/setup.sh)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    browser,
    pageErrors,
    async newPage(_stack, user) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      if (user) {
        // once per tab: a later log out stays logged out
        await context.addInitScript((token: string) => {
          if (window.sessionStorage.getItem('e2e-login') === null) {
            window.sessionStorage.setItem('e2e-login', '1');
            window.localStorage.setItem('api_token', token);
          }
        }, user.token);
      }
      const page = await context.newPage();
      // generous: CI runs these beside other tests on 2 shared cores
      page.setDefaultTimeout(30_000);
      page.on('pageerror', (err) => pageErrors.push(err.message));
      return page;
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
    },
  };
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { createConfigstore } from '@agola-ts/configstore';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { createEtcdClient } from '@agola-ts/etcd';
import { createGatewayClient, type GatewayClient } from '@agola-ts/gateway-client';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  createTestLogger,
  sharedEtcdEndpoint,
  startForge,
  uniquePrefix,
  type Forge,
} from '@agola-ts/testkit';
import { createGateway, type Gateway, type GatewayConfig, type GatewayDeps } from '../src/index.js';

const perTest: (() => Promise<void>)[] = [];
const perFile: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of perTest.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  for (const c of perFile.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(prefix: string, list: (() => Promise<void>)[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  list.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const ADMIN_TOKEN = 'gateway-tests-admin-token';
export const HMAC_KEY = 'gateway-tests-signing-key';

/** The configstore and runservice behind gateways (started once per test file). */
export interface Backends {
  configstore: ConfigstoreClient;
  runservice: RunserviceClient;
}

let backends: Promise<Backends> | undefined;

/** Starts (once per file) a configstore and a runservice on the shared etcd and posix storage. */
export function startBackends(): Promise<Backends> {
  backends ??= (async () => {
    const endpoint = await sharedEtcdEndpoint();
    const csEtcd = createEtcdClient({ endpoints: [endpoint], prefix: uniquePrefix('gwcs') });
    const rsEtcd = createEtcdClient({ endpoints: [endpoint], prefix: uniquePrefix('gwrs') });
    perFile.push(async () => {
      csEtcd.close();
      rsEtcd.close();
    });
    const cs = createConfigstore(
      {
        dataDir: await tempDir('gw-cs-data-', perFile),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: await tempDir('gw-cs-ost-', perFile) },
      },
      { etcd: csEtcd, retryMs: 100 },
    );
    await cs.start();
    perFile.push(() => cs.stop());
    const rs = createRunservice(
      {
        dataDir: await tempDir('gw-rs-data-', perFile),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: await tempDir('gw-rs-ost-', perFile) },
      },
      { etcd: rsEtcd, retryMs: 100, logger: createTestLogger('runservice', { level: 'warn' }) },
    );
    await rs.start();
    perFile.push(() => rs.stop());
    return {
      configstore: createConfigstoreClient({ baseUrl: cs.url! }),
      runservice: createRunserviceClient({ baseUrl: rs.url! }),
    };
  })();
  return backends;
}

/** A running gateway and how to reach it. */
export interface TestGateway {
  gateway: Gateway;
  /** `http://127.0.0.1:<port>`. */
  root: string;
  backends: Backends;
  /** A client with no credentials. */
  anonymous: GatewayClient;
  /** A client with the admin token. */
  admin: GatewayClient;
  /** A client with these credentials. */
  client(auth?: { token?: string; bearer?: string }): GatewayClient;
}

/** Starts a gateway (stopped after the test) in front of the file's backends. */
export async function startGateway(
  overrides: Partial<GatewayConfig> = {},
  deps: { logger?: GatewayDeps['logger']; readCache?: GatewayDeps['readCache'] } = {},
): Promise<TestGateway> {
  const b = await startBackends();
  const gateway = createGateway(
    {
      apiExposedURL: 'http://agola.test',
      webExposedURL: 'http://agola.test',
      configstoreURL: 'http://127.0.0.1:1',
      runserviceURL: 'http://127.0.0.1:1',
      web: { listen: { host: '127.0.0.1', port: 0 } },
      tokenSigning: { method: 'hmac', key: HMAC_KEY },
      adminToken: ADMIN_TOKEN,
      ...overrides,
    },
    {
      configstore: b.configstore,
      runservice: b.runservice,
      deployKeyBits: 2048,
      logger: deps.logger ?? createTestLogger('gateway', { level: 'warn' }),
      ...(deps.readCache ? { readCache: deps.readCache } : {}),
    },
  );
  await gateway.start();
  perTest.push(() => gateway.stop());
  const root = `http://127.0.0.1:${gateway.port}`;
  const client = (auth: { token?: string; bearer?: string } = {}) =>
    createGatewayClient({ baseUrl: root, ...auth });
  return {
    gateway,
    root,
    backends: b,
    anonymous: client(),
    admin: client({ token: ADMIN_TOKEN }),
    client,
  };
}

let forge: Promise<Forge> | undefined;

/** A Gitea forge simulator shared by the tests of a file. */
export function sharedForge(): Promise<Forge> {
  forge ??= (async () => {
    const f = await startForge({ type: 'gitea' });
    perFile.push(() => f.stop());
    return f;
  })();
  return forge;
}

/** RSA key files for `tokenSigning: { method: 'rsa' }`. */
export async function rsaKeyFiles(): Promise<{
  privateKeyPath: string;
  publicKeyPath: string;
  publicKey: string;
}> {
  const dir = await tempDir('gw-keys-', perTest);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const privateKeyPath = join(dir, 'key.pem');
  const publicKeyPath = join(dir, 'key.pub.pem');
  await writeFile(privateKeyPath, privateKey);
  await writeFile(publicKeyPath, publicKey);
  return { privateKeyPath, publicKeyPath, publicKey };
}

let seq = 0;
/** A name unique in the test run (names must start with a letter). */
export function unique(prefix: string): string {
  seq++;
  return `${prefix}${Date.now().toString(36)}${seq}`;
}

/** A raw HTTP request to the gateway (for statuses and headers the client hides). */
export async function raw(
  root: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(`${root}${path}`, {
    method,
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Registers `login` (a new forge user) through the gateway and logs in: returns a client
 * with the login JWT, the user and the forge user.
 */
export async function registerUser(gw: TestGateway, f: Forge, rsName: string, login: string) {
  const forgeUser = f.addUser({ login, password: 'forge-password' });
  await gw.anonymous.register({
    username: login,
    remote_source_name: rsName,
    remote_source_login_name: login,
    remote_source_login_password: 'forge-password',
  });
  const res = await gw.anonymous.login({
    remote_source_name: rsName,
    login_name: login,
    password: 'forge-password',
  });
  return { client: gw.client({ bearer: res.token }), user: res.user!, token: res.token, forgeUser };
}

/** Creates (as admin) a password remote source for the forge. */
export async function createRemoteSource(gw: TestGateway, f: Forge): Promise<string> {
  const name = unique('gitea');
  await gw.admin.createRemoteSource({
    name,
    apiurl: f.apiURL,
    type: 'gitea',
    auth_type: 'password',
  });
  return name;
}

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createConfigstore } from '@agola-ts/configstore';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { createEtcdClient } from '@agola-ts/etcd';
import { createGitSource } from '@agola-ts/gitsources';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  createTestLogger,
  getFreePort,
  sharedEtcdEndpoint,
  startForge,
  uniquePrefix,
  type Forge,
  type ForgeType,
  type ForgeUserInfo,
} from '@agola-ts/testkit';
import type { ProjectResponse, RemoteSource, User } from '@agola-ts/types';
import { createGateway, type Gateway, type GatewayDeps } from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A configstore, a runservice and a gateway on the shared etcd and posix storage. */
export interface Stack {
  configstore: ConfigstoreClient;
  runservice: RunserviceClient;
  gateway: Gateway;
  /** `http://127.0.0.1:<port>` (webhooks are under it). */
  root: string;
  /** `<root>/api/v1alpha`. */
  api: string;
  adminToken: string;
  /** The configstore and runservice API base URLs. */
  configstoreURL: string;
  runserviceURL: string;
  /** The paths of the requests sent to the runservice by its client (the gateway's). */
  runserviceRequests: string[];
  /** Stops the runservice and starts it again on the same port and data. */
  restartRunservice(): Promise<void>;
}

export const ADMIN_TOKEN = 'admin-token-for-runs-tests';

export async function startStack(
  o: {
    gitserverURL?: string;
    gatewayLog?: string[];
    exposeOwnURL?: boolean;
    gatewayDeps?: Partial<GatewayDeps>;
  } = {},
): Promise<Stack> {
  // the gateway's own URL as apiExposedURL, so the webhooks it registers reach it
  const port = o.exposeOwnURL ? await getFreePort() : 0;
  const endpoint = await sharedEtcdEndpoint();
  const csEtcd = createEtcdClient({ endpoints: [endpoint], prefix: uniquePrefix('gwcs') });
  const rsEtcd = createEtcdClient({ endpoints: [endpoint], prefix: uniquePrefix('gwrs') });
  cleanups.push(async () => {
    csEtcd.close();
    rsEtcd.close();
  });
  const cs = createConfigstore(
    {
      dataDir: await tempDir('gw-cs-data-'),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: await tempDir('gw-cs-ost-') },
    },
    { etcd: csEtcd, retryMs: 100 },
  );
  await cs.start();
  cleanups.push(() => cs.stop());
  const rsConfig = {
    dataDir: await tempDir('gw-rs-data-'),
    // a fixed port, so a restarted runservice is where the gateway looks for it
    web: { listen: { host: '127.0.0.1', port: await getFreePort() } },
    etcd: { endpoints: [] },
    objectStorage: { type: 'posix' as const, path: await tempDir('gw-rs-ost-') },
  };
  const runserviceRequests: string[] = [];
  const startRunservice = async () => {
    const r = createRunservice(rsConfig, {
      etcd: rsEtcd,
      retryMs: 100,
      logger: createTestLogger('runservice', { level: 'warn' }),
    });
    await r.start();
    return r;
  };
  let rs = await startRunservice();
  cleanups.push(() => rs.stop());
  const configstore = createConfigstoreClient({ baseUrl: cs.url! });
  // the gateway's requests to the runservice, counted on their way out
  const runservice = createRunserviceClient({
    baseUrl: rs.url!,
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      runserviceRequests.push(new URL(url).pathname);
      return fetch(input, init);
    },
  });
  const gateway = createGateway(
    {
      apiExposedURL: port ? `http://127.0.0.1:${port}` : 'http://127.0.0.1',
      webExposedURL: port ? `http://127.0.0.1:${port}` : 'http://127.0.0.1',
      configstoreURL: 'http://127.0.0.1:1',
      runserviceURL: 'http://127.0.0.1:1',
      ...(o.gitserverURL ? { gitserverURL: o.gitserverURL } : {}),
      web: { listen: { host: '127.0.0.1', port } },
      tokenSigning: { method: 'hmac', key: 'runs-tests-signing-key' },
      adminToken: ADMIN_TOKEN,
    },
    {
      configstore,
      runservice,
      ...o.gatewayDeps,
      logger: createTestLogger(
        'gateway',
        o.gatewayLog
          ? { level: 'trace', write: (line: string) => o.gatewayLog?.push(line) }
          : { level: 'warn' },
      ),
    },
  );
  await gateway.start();
  cleanups.push(() => gateway.stop());
  const root = `http://127.0.0.1:${gateway.port}`;
  return {
    configstore,
    runservice,
    gateway,
    root,
    api: `${root}/api/v1alpha`,
    adminToken: ADMIN_TOKEN,
    configstoreURL: cs.url!,
    runserviceURL: rs.url!,
    runserviceRequests,
    async restartRunservice() {
      await rs.stop();
      rs = await startRunservice();
    },
  };
}

export async function newForge(type: ForgeType = 'gitea'): Promise<Forge> {
  const forge = await startForge({ type, sshURLAsHTTP: true });
  cleanups.push(() => forge.stop());
  return forge;
}

/** A user of the stack with a linked account on the forge and an Agola API token. */
export interface TestUser {
  user: User;
  forgeUser: ForgeUserInfo;
  laId: string;
  token: string;
}

export async function addUser(
  stack: Stack,
  forge: Forge,
  rs: RemoteSource,
  login: string,
): Promise<TestUser> {
  const forgeUser = forge.addUser({ login, password: 'password' });
  const user = await stack.configstore.createUser({
    user_name: login,
    create_user_la_request: {
      remote_source_name: rs.name,
      remote_user_id: String(forgeUser.id),
      remote_user_name: forgeUser.login,
      // password sources use the user access token, OAuth2 ones the access token (the forge
      // accepts its personal tokens as either)
      ...(forge.type === 'gitea'
        ? { user_access_token: forgeUser.token }
        : { oauth2_access_token: forgeUser.token }),
    },
  });
  const laId = Object.keys(user.linked_accounts ?? {})[0]!;
  const { token } = await stack.configstore.createUserToken(login, 'api');
  return { user, forgeUser, laId, token };
}

/** A remote source for the forge (password auth, as Gitea). */
export function createRemoteSource(stack: Stack, forge: Forge): Promise<RemoteSource> {
  return stack.configstore.createRemoteSource({
    Name: `forge-${forge.type}`,
    APIURL: forge.apiURL,
    Type: forge.type,
    AuthType: forge.type === 'gitea' ? 'password' : 'oauth2',
    ...(forge.type === 'gitea'
      ? {}
      : { Oauth2ClientID: 'client-id', Oauth2ClientSecret: 'client-secret' }),
    SkipSSHHostKeyCheck: true,
  });
}

/**
 * A project of `owner` on the forge repo `owner/<name>`, with the webhook the gateway would
 * create (the project creation route belongs to the entity routes; this sets up the same
 * state directly through the configstore and the git source).
 */
export async function createProject(
  stack: Stack,
  forge: Forge,
  rs: RemoteSource,
  owner: TestUser,
  name: string,
  o: {
    visibility?: 'public' | 'private';
    passVarsToForkedPR?: boolean;
    /** The parent project group ref (default: the owner's root group). */
    parent?: string;
  } = {},
): Promise<ProjectResponse> {
  const repo = await forge.createRepo({ owner: owner.forgeUser.login, name });
  const project = await stack.configstore.createProject({
    Name: name,
    Parent: { type: 'projectgroup', id: o.parent ?? `user/${owner.user.name}` },
    Visibility: o.visibility ?? 'public',
    RemoteRepositoryConfigType: 'remotesource',
    RemoteSourceID: rs.id,
    LinkedAccountID: owner.laId,
    RepositoryID: String(repo.id),
    RepositoryPath: repo.path,
    SSHPrivateKey: 'not-a-real-key',
    SkipSSHHostKeyCheck: true,
    PassVarsToForkedPR: o.passVarsToForkedPR ?? false,
  });
  const source = createGitSource({
    type: forge.type,
    apiURL: forge.apiURL,
    token: owner.forgeUser.token,
  } as Parameters<typeof createGitSource>[0]);
  await source.createRepoWebhook(
    repo.path,
    `${stack.root}/webhooks?agolaid=agola&projectid=${project.id}`,
    project.webhook_secret ?? '',
  );
  return project;
}

/** A fetch of the gateway API with an optional `Authorization: token`. */
export async function api(
  stack: Stack,
  method: string,
  path: string,
  o: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (o.token) headers['authorization'] = `token ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.api}${path}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/**
 * A stand-in for the git server's file endpoint (`GET /<repo>.git/raw/<ref>/<path>`), which
 * direct runs read their config from; the git server is not on this branch. Serves `files`
 * for every repo and ref.
 */
export async function startRawFileServer(
  files: Record<string, string>,
): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/[^/]+\/[^/]+\.git\/raw\/[^/]+\/(.+)$/.exec(req.url ?? '');
    const file = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    if (file !== undefined && Object.hasOwn(files, file)) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(files[file]);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, requests };
}

/** Retries `fn` until it stops throwing (at most `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The run config used by the tests. */
export const CONFIG_YML = `
runs:
  - name: ci
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
              environment:
                CONTAINER_SECRET:
                  from_variable: deploytoken
        environment:
          TOKEN:
            from_variable: deploytoken
          PLAIN: hello
        steps:
          - type: clone
          - run: echo build
      - name: deploy
        runtime:
          containers:
            - image: busybox
        depends:
          - build
        approval: true
        when:
          branch: release
        steps:
          - run: echo deploy
  - name: tags-only
    when:
      tag: '#v.*#'
    tasks:
      - name: publish
        runtime:
          containers:
            - image: busybox
        steps:
          - run: echo publish
`;

import { randomUUID, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigstore } from '@agola-ts/configstore';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createExecutor } from '@agola-ts/executor';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { createScheduler } from '@agola-ts/scheduler';
import {
  createTestLogger,
  sharedEtcdEndpoint,
  startForge,
  uniquePrefix,
  type Forge,
} from '@agola-ts/testkit';
import type { Run, RunConfigTask } from '@agola-ts/types';

/** Retries `fn` until it stops throwing (at most `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A TCP proxy that can drop every connection and refuse new ones for a while. */
export interface Proxy {
  url: string;
  /** Destroys every open connection; new ones are closed at once until {@link restore}. */
  cut(): void;
  /**
   * Stops forwarding, both ways, on the open connections whose last request's path contains
   * `path`, keeping them open (a half-dead connection); returns how many. New connections
   * are forwarded as usual.
   */
  freeze(path: string): number;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(targetUrl: string): Promise<Proxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket; path: string }>();
  let open = true;
  const server = createTcpServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const pair = { client, upstream, path: '' };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const m = /^[A-Z]{3,7} (\S{1,500}) HTTP\//.exec(chunk.toString('latin1', 0, 600));
      if (m) pair.path = m[1]!;
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    freeze(path) {
      let n = 0;
      for (const p of pairs) {
        if (!p.path.includes(path)) continue;
        p.client.unpipe(p.upstream);
        p.upstream.unpipe(p.client);
        p.client.pause();
        p.upstream.pause();
        n++;
      }
      return n;
    },
    restore() {
      open = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** One request a {@link Receiver} got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  url: string;
}

/** A real HTTP server receiving run webhooks, answering from a script (then 200). */
export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses to answer next, in order (200 once the list is empty). */
  script: number[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const script: number[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        url: req.url ?? '',
      });
      res.statusCode = script.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Whether `X-Agola-Signature` is the HMAC-SHA256 of the body, checked as a receiver would. */
export function signatureValid(r: Received, secret: string): boolean {
  const header = r.headers['x-agola-signature'];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(r.body).digest();
  const got = Buffer.from(header.slice('sha256='.length), 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** The components of a test installation (one per test file). */
export interface Stack {
  etcdEndpoint: string;
  configstore: ConfigstoreClient;
  configstoreURL: string;
  runservice: RunserviceClient;
  runserviceURL: string;
  forge: Forge;
  /** A forge user linked to an Agola user, with a repo and a project on it. */
  project: TestProject;
  /** Starts another forge simulator with a project on it (stopped with the stack). */
  addProject(type: 'gitea' | 'github'): Promise<{ forge: Forge; project: TestProject }>;
  stop(): Promise<void>;
}

/** A project linked to a forge repo with one commit. */
export interface TestProject {
  id: string;
  name: string;
  repo: string;
  sha: string;
  userId: string;
  /** The forge token of the linked account. */
  token: string;
}

/**
 * A forge user with a repo and a commit, a remote source for the forge (Gitea: password;
 * GitHub: OAuth2 with the user's token as the linked account's access token), an Agola user
 * linked to it and a project on the repo.
 */
async function createProject(
  configstore: ConfigstoreClient,
  forge: Forge,
  type: 'gitea' | 'github',
): Promise<TestProject> {
  const login = unique('alice');
  const forgeUser = forge.addUser({ login, password: 'forge-password' });
  const repo = await forge.createRepo({ owner: login, name: 'app' });
  const sha = await forge.commit({ repo: repo.path, files: { 'README.md': 'hello' } });
  const rsName = unique(type);
  await configstore.createRemoteSource(
    type === 'gitea'
      ? { Name: rsName, APIURL: forge.apiURL, Type: 'gitea', AuthType: 'password' }
      : {
          Name: rsName,
          APIURL: forge.apiURL,
          Type: 'github',
          AuthType: 'oauth2',
          Oauth2ClientID: 'client-id',
          Oauth2ClientSecret: 'client-secret',
        },
  );
  const user = await configstore.createUser({
    user_name: login,
    create_user_la_request: {
      remote_source_name: rsName,
      remote_user_id: String(forgeUser.id),
      remote_user_name: login,
      ...(type === 'gitea'
        ? { user_access_token: forgeUser.token }
        : { oauth2_access_token: forgeUser.token }),
    },
  });
  const la = Object.values(user.linked_accounts ?? {})[0];
  if (!la) throw new Error('no linked account');
  const projectName = unique('app');
  const project = await configstore.createProject({
    Name: projectName,
    Parent: { type: 'projectgroup', id: `user/${login}` },
    Visibility: 'public',
    RemoteRepositoryConfigType: 'remotesource',
    RemoteSourceID: rsName,
    LinkedAccountID: la.id,
    RepositoryID: String(repo.id),
    RepositoryPath: repo.path,
  });
  return {
    id: project.id,
    name: projectName,
    repo: repo.path,
    sha,
    userId: user.id,
    token: forgeUser.token,
  };
}

let seq = 0;
/** A name unique in the run. */
export function unique(prefix: string): string {
  seq++;
  return `${prefix}${Date.now().toString(36)}${seq}`;
}

/** configstore + runservice + scheduler + a local executor + a Gitea forge simulator. */
export async function startStack(): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const endpoint = await sharedEtcdEndpoint();
    const dir = await mkdtemp(join(tmpdir(), 'notif-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const etcds: EtcdClient[] = ['nfcs', 'nfrs'].map((p) =>
      createEtcdClient({ endpoints: [endpoint], prefix: uniquePrefix(p) }),
    );
    cleanups.push(async () => etcds.forEach((e) => e.close()));
    const cs = createConfigstore(
      {
        dataDir: join(dir, 'cs'),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: join(dir, 'cs-ost') },
      },
      { etcd: etcds[0]!, retryMs: 100, logger: createTestLogger('configstore', { level: 'warn' }) },
    );
    await cs.start();
    cleanups.push(() => cs.stop());
    const rs = createRunservice(
      {
        dataDir: join(dir, 'rs'),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: join(dir, 'rs-ost') },
      },
      {
        etcd: etcds[1]!,
        retryMs: 100,
        logger: createTestLogger('runservice', { level: 'warn' }),
        // keep-alive comments on the run event stream often, so a short idle timeout holds
        intervals: { eventsKeepAlive: 250 },
      },
    );
    await rs.start();
    cleanups.push(() => rs.stop());
    const scheduler = createScheduler(
      { runserviceURL: rs.url! },
      { logger: createTestLogger('scheduler', { level: 'warn' }) },
    );
    await scheduler.start();
    cleanups.push(() => scheduler.stop());
    const executor = createExecutor(
      {
        dataDir: join(dir, 'ex'),
        runserviceURL: rs.url!,
        web: { listen: { host: '127.0.0.1', port: 0 } },
        driver: { type: 'local' },
      },
      {
        logger: createTestLogger('executor', { level: 'warn' }),
        intervals: { tasksMs: 500, heartbeatMs: 1000 },
      },
    );
    await executor.start();
    cleanups.push(() => executor.stop());
    const forge = await startForge({ type: 'gitea' });
    cleanups.push(() => forge.stop());

    const configstore = createConfigstoreClient({ baseUrl: cs.url! });
    const project = await createProject(configstore, forge, 'gitea');
    return {
      etcdEndpoint: endpoint,
      configstore,
      configstoreURL: cs.url!,
      runservice: createRunserviceClient({ baseUrl: rs.url! }),
      runserviceURL: rs.url!,
      forge,
      project,
      async addProject(type) {
        const f = await startForge({ type });
        cleanups.push(() => f.stop());
        return { forge: f, project: await createProject(configstore, f, type) };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A one-task run config whose step runs `command` (the local driver runs it on the host). */
export function oneTask(command: string): Record<string, RunConfigTask> {
  const id = randomUUID();
  return {
    [id]: {
      id,
      name: 'build',
      level: 0,
      depends: {},
      runtime: {
        type: 'pod',
        containers: [{ image: 'busybox', privileged: false, entrypoint: '', volumes: [] }],
      },
      steps: [{ type: 'run', name: 'step', command }],
    },
  };
}

/** Waits until the run is in `phase` (and has `result`). */
export function waitRun(
  rs: RunserviceClient,
  runId: string,
  phase: string,
  result?: string,
): Promise<Run> {
  return eventually(async () => {
    const { run } = await rs.getRun(runId);
    if (run.phase !== phase || (result !== undefined && run.result !== result)) {
      throw new Error(`run ${runId} is ${run.phase}/${run.result}, waiting for ${phase}`);
    }
    return run;
  }, 60_000);
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createConfigstoreClient, type ConfigstoreClient } from '@agola-ts/configstore-client';
import { RemoteError } from '@agola-ts/errors';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createObjectStorage, type ObjectStorage, type ObjectStorageConfig } from '@agola-ts/ost';
import { freshBucket, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import { createConfigstore, type Configstore } from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An installation: one etcd prefix and one object storage directory. */
export interface Installation {
  etcd: EtcdClient;
  /** Given to the instances; when undefined they build theirs from `ostConfig`. */
  ost: ObjectStorage | undefined;
  ostConfig: ObjectStorageConfig;
}

export async function newInstallation(): Promise<Installation> {
  const etcd = createEtcdClient({
    endpoints: [await sharedEtcdEndpoint()],
    prefix: uniquePrefix('cs'),
  });
  const ostDir = await mkdtemp(join(tmpdir(), 'cs-ost-'));
  cleanups.push(async () => {
    etcd.close();
    await rm(ostDir, { recursive: true, force: true });
  });
  const ostConfig: ObjectStorageConfig = { type: 'posix', path: ostDir };
  return { etcd, ost: createObjectStorage(ostConfig), ostConfig };
}

/** An installation on a fresh bucket of the test run's S3 server; instances build their storage from the config. */
export async function newS3Installation(): Promise<Installation> {
  const etcd = createEtcdClient({
    endpoints: [await sharedEtcdEndpoint()],
    prefix: uniquePrefix('cs'),
  });
  cleanups.push(async () => etcd.close());
  const conn = await freshBucket();
  return {
    etcd,
    ost: undefined,
    ostConfig: {
      type: 's3',
      bucket: conn.bucket,
      endpoint: conn.endpoint,
      region: conn.region,
      accessKeyId: conn.accessKeyId,
      secretAccessKey: conn.secretAccessKey,
      forcePathStyle: true,
    },
  };
}

export interface Instance {
  cs: Configstore;
  client: ConfigstoreClient;
  url: string;
  dataDir: string;
}

/** Starts a configstore instance of `inst` (a fresh data dir unless given). */
export async function startInstance(inst: Installation, dataDir?: string): Promise<Instance> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'cs-data-')));
  const cs = createConfigstore(
    {
      dataDir: dir,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: inst.ostConfig,
    },
    { etcd: inst.etcd, ...(inst.ost ? { ost: inst.ost } : {}), retryMs: 100 },
  );
  await cs.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await cs.stop();
  };
  cleanups.push(async () => {
    await stop();
    if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
  });
  const url = cs.url!;
  return { cs, client: createConfigstoreClient({ baseUrl: url }), url, dataDir: dir };
}

/** Starts a fresh installation with one instance. */
export async function startFresh(): Promise<Instance & { inst: Installation }> {
  const inst = await newInstallation();
  return { ...(await startInstance(inst)), inst };
}

/** The RemoteError a call rejects with (fails the test when it resolves). */
export async function remoteError(p: Promise<unknown>): Promise<RemoteError> {
  const result = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (result.ok) throw new Error(`expected a RemoteError, got ${JSON.stringify(result.v)}`);
  if (!(result.e instanceof RemoteError)) throw result.e;
  return result.e;
}

/** Retries `fn` until it stops throwing (at most `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
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

export const giteaSource = (name: string) => ({
  Name: name,
  APIURL: 'https://gitea.example.com',
  Type: 'gitea' as const,
  AuthType: 'password' as const,
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { createPosixStorage, type ObjectStorage } from '@agola-ts/ost';
import { createS3Storage } from '@agola-ts/ost/s3';
import { createTestLogger, freshBucket, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import { createDataManager, type DataManager, type DataManagerOptions } from '../src/index.js';

export type OstKind = 'posix' | 's3';

/** Everything a datamanager test needs, cleaned up by `close()`. */
export interface Fixture {
  etcd: EtcdClient;
  /** etcd endpoint the fixture's client uses. */
  endpoint: string;
  ost: ObjectStorage;
  /** Root dir of a posix ost (undefined for s3). */
  ostDir: string | undefined;
  /** Creates (and tracks) a datamanager on the fixture's etcd and ost. */
  dm(options?: Partial<DataManagerOptions>): DataManager;
  close(): Promise<void>;
}

/** Timings for tests: background loops effectively off unless a test turns them on. */
export const QUIET = {
  sync: 3_600_000,
  checkpoint: 3_600_000,
  checkpointClean: 3_600_000,
  etcdWalCleaner: 3_600_000,
  storageWalCleaner: 3_600_000,
  compactChangeGroups: 3_600_000,
  ping: 3_600_000,
  retry: 100,
};

export async function createOst(
  kind: OstKind,
): Promise<{ ost: ObjectStorage; dir?: string; cleanup: () => Promise<void> }> {
  if (kind === 'posix') {
    const dir = await mkdtemp(join(tmpdir(), 'dm-test-'));
    return {
      ost: createPosixStorage({ path: dir }),
      dir,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const conn = await freshBucket();
  return {
    ost: createS3Storage({
      endpoint: conn.endpoint,
      region: conn.region,
      bucket: conn.bucket,
      accessKeyId: conn.accessKeyId,
      secretAccessKey: conn.secretAccessKey,
      forcePathStyle: true,
    }),
    cleanup: async () => undefined,
  };
}

export async function fixture(kind: OstKind = 'posix', endpoint?: string): Promise<Fixture> {
  const url = endpoint ?? (await sharedEtcdEndpoint());
  const etcd = createEtcdClient({ endpoints: url, prefix: uniquePrefix('dm') });
  const { ost, dir, cleanup } = await createOst(kind);
  const dms: DataManager[] = [];
  return {
    etcd,
    endpoint: url,
    ost,
    ostDir: dir,
    dm(options = {}) {
      const dm = createDataManager({
        etcd,
        ost,
        basePath: 'configdata',
        dataTypes: ['user', 'org', 'project'],
        logger: createTestLogger('datamanager'),
        ...options,
        intervals: { ...QUIET, ...options.intervals },
      });
      dms.push(dm);
      return dm;
    },
    async close() {
      await Promise.all(dms.map((d) => d.stop()));
      etcd.close();
      await cleanup();
    },
  };
}

export const put = (dataType: string, id: string, data: string) =>
  ({ actionType: 'put', dataType, id, data }) as const;
export const del = (dataType: string, id: string) =>
  ({ actionType: 'delete', dataType, id }) as const;

/** Polls until `check` returns true (or fails after `timeoutMs`). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lists every key of an object storage. */
export async function allKeys(ost: ObjectStorage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of ost.list(prefix, { recursive: true })) keys.push(o.key);
  return keys;
}

/** A wal as the object storage holds it (its own header object, or a line of its sync batch). */
export interface StoredWal {
  WalDataFileID: string;
  PreviousWalSequence: string;
  /** Base64 data (batched wals that were inline in etcd). */
  Data?: string;
  /** Where it is: `header` (Agola's `wals/status/<seq>.committed`) or the batch key. */
  in: string;
}

async function readText(ost: ObjectStorage, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await ost.read(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Every wal in the object storage under `base`, by sequence, in order. */
export async function storedWals(
  ost: ObjectStorage,
  base = 'configdata',
): Promise<Map<string, StoredWal>> {
  const out = new Map<string, StoredWal>();
  for (const key of await allKeys(ost, `${base}/wals/status/`)) {
    const m = /\/([^/]+)\.committed$/.exec(key);
    if (m) out.set(m[1]!, { ...(JSON.parse(await readText(ost, key)) as StoredWal), in: 'header' });
  }
  for (const key of await allKeys(ost, `${base}/wals/batches/`)) {
    for (const line of (await readText(ost, key)).split('\n')) {
      if (!line) continue;
      const w = JSON.parse(line) as StoredWal & { WalSequence: string };
      out.set(w.WalSequence, { ...w, in: key });
    }
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Removes a wal from the object storage (its header object, or its line of its batch). */
export async function loseStoredWal(
  ost: ObjectStorage,
  seq: string,
  base = 'configdata',
): Promise<void> {
  const w = (await storedWals(ost, base)).get(seq);
  if (!w) throw new Error(`wal ${seq} is not in the storage`);
  if (w.in === 'header') {
    await ost.delete(`${base}/wals/status/${seq}.committed`);
    return;
  }
  const lines = (await readText(ost, w.in))
    .split('\n')
    .filter((l) => l && (JSON.parse(l) as { WalSequence: string }).WalSequence !== seq);
  await ost.write(w.in, lines.map((l) => `${l}\n`).join(''));
}

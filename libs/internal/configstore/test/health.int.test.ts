import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createConfigstoreClient } from '@agola-ts/configstore-client';
import { createDataManager } from '@agola-ts/datamanager';
import { createEtcdClient } from '@agola-ts/etcd';
import type { HealthReport } from '@agola-ts/service-kit';
import { startEtcd, uniquePrefix } from '@agola-ts/testkit';
import {
  CONFIGSTORE_BASE_PATH,
  createConfigstore,
  DATA_TYPES,
  WALS_LOST_DEGRADED_MS,
  type ConfigstoreDeps,
} from '../src/index.js';
import { eventually, newInstallation, remoteError, type Installation } from './helpers.js';

// registered after the helpers' cleanup, so it runs before it: services stop before their
// storage directory is removed
const finish: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of finish.splice(0).reverse()) await f();
});
const atEnd = (f: () => Promise<void> | void) => void finish.push(f);

/** A configstore of `inst` started with `waitReady: false` (stopped at the end of the test). */
async function startUnready(
  inst: Installation,
  storageProbeIntervalMs?: number,
  dataManager?: ConfigstoreDeps['dataManager'],
) {
  const dir = await mkdtemp(join(tmpdir(), 'cs-data-'));
  const cs = createConfigstore(
    {
      dataDir: dir,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: inst.ostConfig,
    },
    {
      etcd: inst.etcd,
      ...(inst.ost ? { ost: inst.ost } : {}),
      retryMs: 100,
      ...(storageProbeIntervalMs !== undefined ? { storageProbeIntervalMs } : {}),
      ...(dataManager ? { dataManager } : {}),
    },
  );
  atEnd(async () => {
    await cs.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await cs.start({ waitReady: false });
  const base = cs.url!.slice(0, -'/api/v1alpha'.length);
  return { cs, base, client: createConfigstoreClient({ baseUrl: cs.url! }) };
}

async function health(base: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('configstore health', () => {
  it('listens with /health answering while its readdb cannot catch up', async () => {
    const inst = await newInstallation();
    // an entry the readdb cannot apply, written behind the configstore's back
    const dm = createDataManager({
      etcd: inst.etcd,
      ost: inst.ost!,
      basePath: CONFIGSTORE_BASE_PATH,
      dataTypes: DATA_TYPES,
    });
    await dm.start();
    const { walSequence } = await dm.write([
      { actionType: 'put', dataType: 'user', id: 'u-broken', data: 'not json' },
    ]);
    await dm.stop();

    const { base, client } = await startUnready(inst);
    await eventually(async () => {
      const { status, body } = await health(base);
      expect(status).toBe(503);
      expect(body.status).toBe('degraded');
      const follower = body.reasons.find((r) => r.component === 'follower');
      expect(follower?.code).toBe('ERR_DATAMANAGER_SINK_APPLY');
      expect(follower?.message).toContain(`user "u-broken" of wal ${walSequence}`);
      expect(body.reasons.find((r) => r.component === 'service')?.code).toBe(
        'ERR_SERVICE_STARTING',
      );
    }, 20_000);
    const err = await remoteError(client.getUsers({}));
    expect(err.status).toBe(503);
    expect(err.code).toBe('ERR_SERVICE_UNAVAILABLE');
    expect(err.message).toContain('follower: ERR_DATAMANAGER_SINK_APPLY');
  });

  it('is ready once the readdb caught up', async () => {
    const inst = await newInstallation();
    const { cs, base } = await startUnready(inst);
    await eventually(async () => {
      expect(await health(base)).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'normal', reasons: [] },
      });
    }, 20_000);
    expect(cs.health.snapshot().status).toBe('ready');
  });
});

describe('configstore with the object storage away', () => {
  it('reports it on /health and keeps serving reads; ready again once it answers', async () => {
    const inst = await newInstallation();
    const blocked = { on: false };
    const ost = new Proxy(inst.ost!, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (blocked.on) throw new Error('connect ECONNREFUSED (test)');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { base, client } = await startUnready({ ...inst, ost }, 100);
    await eventually(async () => expect((await health(base)).status).toBe(200), 20_000);
    await client.createUser({ user_name: 'alice' });
    blocked.on = true;
    await eventually(async () => {
      const { status, body } = await health(base);
      expect(status).toBe(503);
      const reason = body.reasons.find((r) => r.component === 'storage');
      expect(reason?.message).toBe(
        'the object storage is unreachable: connect ECONNREFUSED (test)',
      );
    });
    expect((await client.getUser('alice')).name).toBe('alice');
    blocked.on = false;
    await eventually(async () => expect((await health(base)).status).toBe(200));
  });
});

describe('configstore with etcd away', () => {
  it('serves reads from the readdb, answers writes 503, and recovers without a restart', async () => {
    const server = await startEtcd();
    atEnd(() => server.stop());
    const etcd = createEtcdClient({
      endpoints: [server.endpoint],
      prefix: uniquePrefix('cs'),
      callTimeoutMs: 3000,
    });
    atEnd(() => etcd.close());
    const inst = await newInstallation();
    const { cs, base, client } = await startUnready({ ...inst, etcd });
    await eventually(async () => {
      expect(await health(base)).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'normal', reasons: [] },
      });
    }, 20_000);
    const app = cs.app;
    await client.createUser({ user_name: 'alice' });

    await server.kill();
    await eventually(async () => {
      const { status, body } = await health(base);
      expect(status).toBe(503);
      expect(body.reasons.map((r) => r.component)).toContain('etcd');
    }, 20_000);
    // reads: from the readdb
    expect((await client.getUser('alice')).name).toBe('alice');
    expect((await client.getUsers({})).map((u) => u.name)).toEqual(['alice']);
    // writes: a clear 503
    const err = await remoteError(client.createUser({ user_name: 'bob' }));
    expect(err.status).toBe(503);
    expect(err.code).toBe('ERR_SERVICE_UNAVAILABLE');
    expect(err.message).toContain('etcd is unreachable');

    await server.start();
    await eventually(async () => expect((await health(base)).status).toBe(200), 30_000);
    await eventually(async () => client.createUser({ user_name: 'bob' }), 20_000);
    expect((await client.getUsers({})).map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    // the same routes served throughout: no restart
    expect(cs.app).toBe(app);
  });
});

describe('configstore after an etcd wipe', () => {
  it('reports acknowledged writes that were lost on /health for a while', async () => {
    const server = await startEtcd();
    atEnd(() => server.stop());
    const etcd = createEtcdClient({
      endpoints: [server.endpoint],
      prefix: uniquePrefix('cs'),
      callTimeoutMs: 3000,
    });
    atEnd(() => etcd.close());
    const inst = await newInstallation();
    // wal writes to the object storage fail while blocked: the wals live only in etcd
    const blocked = { on: false };
    const ost = new Proxy(inst.ost!, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (blocked.on && prop === 'write' && String(args[0]).includes('/wals/')) {
            throw new Error('storage unreachable (test)');
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { base, client } = await startUnready({ ...inst, etcd, ost }, undefined, {
      intervals: { retry: 100, sync: 100 },
    });
    await eventually(async () => expect((await health(base)).status).toBe(200), 20_000);
    await client.createUser({ user_name: 'kept' });
    await eventually(async () => {
      const last = (await etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value;
      const committed = (await etcd.get('datamanager/walsdata')).kv?.value.toString() ?? '';
      expect(committed).toContain(String(last));
    });
    blocked.on = true;
    await client.createUser({ user_name: 'lost' }); // acknowledged, only in etcd
    await server.restart({ wipe: true });
    blocked.on = false;
    const reason = await eventually(async () => {
      const { status, body } = await health(base);
      expect(status).toBe(503);
      const r = body.reasons.find((x) => x.component === 'datamanager');
      expect(r).toBeDefined();
      return r!;
    }, 30_000);
    expect(reason.code).toBe('ERR_DATAMANAGER_WALS_LOST');
    // a user create is one wal; the root project group goes in the same one
    expect(reason.message).toMatch(/^1 acknowledged wal\(s\) lost, from \S+ to \S+/);
    expect(Date.parse(reason.until!) - Date.parse(reason.since)).toBe(WALS_LOST_DEGRADED_MS);
    // the instance serves what survived
    await eventually(async () =>
      expect((await client.getUsers({})).map((u) => u.name)).toEqual(['kept']),
    );
  });
});

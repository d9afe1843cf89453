import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataManager } from '@agola-ts/datamanager';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { getFreePort, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import {
  API_PREFIX,
  maintenanceRoutes,
  runService,
  type ExportImportSource,
  type ServiceRoutes,
} from '../src/index.js';
import { createCapturingLogger, eventually } from './capture-logger.js';

/** An export/import source in memory: exports `exported`, records what it imports. */
class MemorySource implements ExportImportSource {
  imported: Buffer[] = [];
  importStarted = false;
  constructor(private readonly exported: () => Readable) {}
  async export(): Promise<Readable> {
    return this.exported();
  }
  async import(input: AsyncIterable<Uint8Array>): Promise<void> {
    this.importStarted = true;
    for await (const chunk of input) this.imported.push(Buffer.from(chunk));
  }
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function startInstance(etcd: EtcdClient, name: string, data: ExportImportSource) {
  const controller = new AbortController();
  const port = await getFreePort();
  const { logger } = createCapturingLogger();
  const normal: ServiceRoutes = async (api, ctx) => {
    api.get('/hello', async () => ({ instance: name, mode: ctx.mode }));
    await api.register(maintenanceRoutes, { etcd, data, mode: ctx.mode });
  };
  const maintenance: ServiceRoutes = async (api, ctx) => {
    await api.register(maintenanceRoutes, { etcd, data, mode: ctx.mode });
  };
  const done = runService({
    name,
    etcd,
    signal: controller.signal,
    logger,
    listen: { host: '127.0.0.1', port },
    routes: { normal, maintenance },
    retryMs: 100,
  });
  stops.push(async () => {
    controller.abort();
    await done;
  });
  return `http://127.0.0.1:${port}${API_PREFIX}`;
}

async function newEtcd(): Promise<EtcdClient> {
  const etcd = createEtcdClient({
    endpoints: [await sharedEtcdEndpoint()],
    prefix: uniquePrefix(),
  });
  stops.push(async () => etcd.close());
  return etcd;
}

const text = (s: string) => () => Readable.from([Buffer.from(s)]);

describe('runService and maintenanceRoutes', () => {
  it('switches two instances between their normal and maintenance routers', async () => {
    const etcd = await newEtcd();
    const dataA = new MemorySource(text('{"id":"a"}'));
    const dataB = new MemorySource(text('{"id":"b"}'));
    const a = await startInstance(etcd, 'a', dataA);
    const b = await startInstance(etcd, 'b', dataB);

    for (const [url, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      await eventually(async () => {
        const res = await fetch(`${url}/hello`);
        expect(await res.json()).toEqual({ instance: name, mode: 'normal' });
      });
    }
    // normal mode: import is refused as in Agola, export works
    let res = await fetch(`${a}/import`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 'ERR_DATAMANAGER_NOT_IN_MAINTENANCE',
      message: 'import is only allowed in maintenance mode',
    });
    expect(await (await fetch(`${b}/export`)).text()).toBe('{"id":"b"}');

    expect(await (await fetch(`${a}/maintenance`)).json()).toEqual({
      requested_status: false,
      current_status: false,
    });
    res = await fetch(`${a}/maintenance`, { method: 'PUT' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    // asked for at once; served once each instance has switched
    expect(await (await fetch(`${a}/maintenance`)).json()).toMatchObject({
      requested_status: true,
    });
    for (const url of [a, b]) {
      await eventually(async () => {
        expect(await (await fetch(`${url}/maintenance`)).json()).toEqual({
          requested_status: true,
          current_status: true,
        });
      });
    }
    for (const url of [a, b]) {
      await eventually(async () => {
        const hello = await fetch(`${url}/hello`);
        expect(hello.status).toBe(404);
        expect(await hello.json()).toEqual({
          code: 'ERR_SERVICE_NO_ROUTE',
          message: 'no route for GET /api/v1alpha/hello: the service is in maintenance mode',
        });
      });
      const wrongMethod = await fetch(`${url}/export`, { method: 'POST' });
      expect(wrongMethod.status).toBe(405);
    }
    res = await fetch(`${b}/maintenance`, { method: 'PUT' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 'ERR_DATAMANAGER_MAINTENANCE_STATE',
      message: 'maintenance mode already enabled',
    });
    expect(await (await fetch(`${a}/export`)).text()).toBe('{"id":"a"}');
    res = await fetch(`${b}/import`, { method: 'POST', body: '{"id":"x"}' });
    expect(res.status).toBe(204);
    expect(Buffer.concat(dataB.imported).toString()).toBe('{"id":"x"}');

    res = await fetch(`${b}/maintenance`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    for (const url of [a, b]) {
      await eventually(async () => {
        expect((await fetch(`${url}/hello`)).status).toBe(200);
      });
      expect(await (await fetch(`${url}/maintenance`)).json()).toEqual({
        requested_status: false,
        current_status: false,
      });
    }
    res = await fetch(`${a}/maintenance`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 'ERR_DATAMANAGER_MAINTENANCE_STATE',
      message: 'maintenance mode already disabled',
    });
  });

  it('aborts an export that fails midway, so the client sees a truncated response', async () => {
    const etcd = await newEtcd();
    const failing = () => {
      let sent = 0;
      return new Readable({
        read() {
          if (sent >= 3) {
            this.destroy(new Error('data file vanished'));
            return;
          }
          sent++;
          this.push(Buffer.alloc(64 * 1024, 'x'));
        },
      });
    };
    const url = await startInstance(etcd, 'exp', new MemorySource(failing));
    await eventually(async () => expect((await fetch(`${url}/hello`)).status).toBe(200));
    const res = await fetch(`${url}/export`);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('answers 500 with only "internal server error" when the export cannot start', async () => {
    const etcd = await newEtcd();
    const source: ExportImportSource = {
      export: async () => {
        throw new Error('checkpoint failed: secret');
      },
      import: async () => undefined,
    };
    const url = await startInstance(etcd, 'exp2', source);
    await eventually(async () => expect((await fetch(`${url}/hello`)).status).toBe(200));
    const res = await fetch(`${url}/export`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"code":"ERR_INTERNAL","message":"internal server error"}');
  });

  it('streams an import body without buffering it or applying the body limit', async () => {
    const etcd = await newEtcd();
    const data = new MemorySource(text(''));
    const url = await startInstance(etcd, 'imp', data);
    await eventually(async () => expect((await fetch(`${url}/hello`)).status).toBe(200));
    expect((await fetch(`${url}/maintenance`, { method: 'PUT' })).status).toBe(200);
    await eventually(async () => expect((await fetch(`${url}/hello`)).status).toBe(404));

    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let secondHalfSent = false;
    async function* body() {
      yield chunk;
      yield chunk;
      // the server must consume the first part before the client sends the rest
      await eventually(async () => expect(data.imported.length).toBeGreaterThan(0));
      expect(secondHalfSent).toBe(false);
      secondHalfSent = true;
      yield chunk;
    }
    const res = await fetch(`${url}/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.from(body()),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(204);
    expect(Buffer.concat(data.imported).length).toBe(3 * chunk.length);
  });
});

// A DataManager is what services pass as `data`: keep the interface compatible with it.
type DataManagerFits = DataManager extends ExportImportSource ? true : never;
const _fits: DataManagerFits = true;

import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createEtcdClient, type EtcdClient } from '@agola-ts/etcd';
import { getFreePort, sharedEtcdEndpoint, startEtcd, uniquePrefix } from '@agola-ts/testkit';
import type { EtcdServer } from '@agola-ts/testkit';
import {
  API_PREFIX,
  createServiceHealth,
  runService,
  type HealthReport,
  type ServiceHealth,
  type ServiceRoutes,
} from '../src/index.js';
import { createCapturingLogger, eventually } from './capture-logger.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A fresh etcd client on the shared etcd, or on `endpoint`. */
async function newEtcd(endpoint?: string): Promise<EtcdClient> {
  const etcd = createEtcdClient({
    endpoints: [endpoint ?? (await sharedEtcdEndpoint())],
    prefix: uniquePrefix(),
    callTimeoutMs: 2000,
  });
  stops.push(async () => etcd.close());
  return etcd;
}

async function ownEtcd(): Promise<EtcdServer> {
  const server = await startEtcd();
  stops.push(() => server.stop());
  return server;
}

interface Started {
  base: string;
  api: string;
  health: ServiceHealth;
  lines: Record<string, unknown>[];
  /** How many times a mode started serving. */
  served: () => number;
}

async function start(
  etcd: EtcdClient,
  routes: { normal: ServiceRoutes; maintenance?: ServiceRoutes },
): Promise<Started> {
  const controller = new AbortController();
  const port = await getFreePort();
  const { logger, lines } = createCapturingLogger();
  const health = createServiceHealth();
  let served = 0;
  let listening!: () => void;
  const up = new Promise<void>((r) => (listening = r));
  const done = runService({
    name: 'svc',
    etcd,
    signal: controller.signal,
    logger,
    health,
    listen: { host: '127.0.0.1', port },
    routes: { normal: routes.normal, maintenance: routes.maintenance ?? (() => undefined) },
    retryMs: 100,
    onServerListening: () => listening(),
    onListening: () => void served++,
  });
  stops.push(async () => {
    controller.abort();
    await done;
  });
  await up;
  const base = `http://127.0.0.1:${port}`;
  return { base, api: `${base}${API_PREFIX}`, health, lines, served: () => served };
}

async function getHealth(base: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('GET /health', () => {
  it('answers before the routes are ready (503 degraded) and once they are (200 ready)', async () => {
    const etcd = await newEtcd();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await start(etcd, {
      normal: async (api, ctx) => {
        ctx.health.report('follower', { code: 'ERR_TEST_BEHIND', message: 'catching up' });
        await gate;
        ctx.health.report('follower', undefined);
        api.get('/hello', async () => ({ hello: 'world' }));
      },
    });
    await eventually(async () => {
      const { status, body } = await getHealth(s.base);
      expect(status).toBe(503);
      expect(body.status).toBe('degraded');
      expect(body.mode).toBeNull();
      expect(body.reasons.map((r) => [r.component, r.code])).toEqual([
        ['follower', 'ERR_TEST_BEHIND'],
        ['service', 'ERR_SERVICE_STARTING'],
      ]);
      expect(Date.parse(body.reasons[0]!.since)).not.toBeNaN();
    });
    const early = await fetch(`${s.api}/hello`);
    expect(early.status).toBe(503);
    const earlyBody = (await early.json()) as { code: string; message: string };
    expect(earlyBody.code).toBe('ERR_SERVICE_UNAVAILABLE');
    expect(earlyBody.message).toBe(
      'the service is not ready (follower: ERR_TEST_BEHIND, service: ERR_SERVICE_STARTING); GET /health says why',
    );

    release();
    await eventually(async () => {
      expect(await getHealth(s.base)).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'normal', reasons: [] },
      });
    });
    expect(await (await fetch(`${s.api}/hello`)).json()).toEqual({ hello: 'world' });
    // the health route is the same in every mode: not under the API prefix, not a 404
    expect((await fetch(`${s.base}/health?verbose=1`)).status).toBe(200);
  });

  it('answers in maintenance mode, with the mode', async () => {
    const etcd = await newEtcd();
    await etcd.put('maintenance', '');
    const s = await start(etcd, {
      normal: () => undefined,
      maintenance: (api) => void api.get('/export', async () => 'x'),
    });
    await eventually(async () => {
      expect(await getHealth(s.base)).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'maintenance', reasons: [] },
      });
    });
  });

  it('a router that fails to start: degraded with its error, retried until it starts', async () => {
    const etcd = await newEtcd();
    let failures = 2;
    const s = await start(etcd, {
      normal: (api) => {
        if (failures-- > 0) throw new Error('readdb directory is not writable');
        api.get('/hello', async () => 'hi');
      },
    });
    await eventually(async () => {
      const { body } = await getHealth(s.base);
      expect(body.reasons.find((r) => r.component === 'service')?.message).toContain(
        'the normal mode failed to start: readdb directory is not writable',
      );
    });
    await eventually(async () => expect((await fetch(`${s.api}/hello`)).status).toBe(200));
    const warnings = s.lines.filter(
      (l) => l['level'] === 40 && String(l['msg']).includes('failed to start'),
    );
    expect(warnings.length).toBe(2);
    expect(String(warnings[0]!['msg'])).toContain('readdb directory is not writable');
  });
});

describe('etcd away', () => {
  it('keeps serving reads, answers writes 503, and recovers without a restart', async () => {
    const server = await ownEtcd();
    const etcd = await newEtcd(server.endpoint);
    const s = await start(etcd, {
      normal: (api, ctx) => {
        api.get('/read', async () => ({ from: 'readdb' }));
        api.post('/write', async (_req, reply) => {
          await ctx.etcd.put('written', 'x');
          return reply.code(204).send();
        });
      },
    });
    await eventually(async () => expect((await getHealth(s.base)).status).toBe(200));
    expect((await fetch(`${s.api}/write`, { method: 'POST' })).status).toBe(204);

    await server.kill();
    await eventually(async () => {
      const { status, body } = await getHealth(s.base);
      expect(status).toBe(503);
      expect(body.mode).toBe('normal');
      const reason = body.reasons.find((r) => r.component === 'etcd');
      expect(reason?.code).toBe('ERR_ETCD_UNAVAILABLE');
      expect(reason?.message).toMatch(/^etcd unreachable/);
    });
    // reads keep working, writes get a clear 503
    const read = await fetch(`${s.api}/read`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ from: 'readdb' });
    const write = await fetch(`${s.api}/write`, { method: 'POST' });
    expect(write.status).toBe(503);
    expect(await write.json()).toEqual({
      code: 'ERR_SERVICE_UNAVAILABLE',
      message: 'etcd is unreachable: the service answers reads but cannot write now; retry later',
    });
    // each retry is logged with its cause
    await eventually(async () => {
      const retries = s.lines.filter(
        (l) => l['level'] === 40 && String(l['msg']).includes('the maintenance key failed'),
      );
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(String(retries[0]!['msg'])).toMatch(/retrying in \d+ ms/);
    });

    await server.start();
    await eventually(async () => {
      expect(await getHealth(s.base)).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'normal', reasons: [] },
      });
    }, 30_000);
    await eventually(async () =>
      expect((await fetch(`${s.api}/write`, { method: 'POST' })).status).toBe(204),
    );
    // the routes were never rebuilt: one start for the whole outage
    expect(s.served()).toBe(1);
  });

  it('etcd unreachable at start: /health answers, the service starts once etcd is back', async () => {
    const server = await ownEtcd();
    await server.kill();
    const etcd = await newEtcd(server.endpoint);
    const s = await start(etcd, { normal: (api) => void api.get('/read', async () => 'ok') });
    await eventually(async () => {
      const { status, body } = await getHealth(s.base);
      expect(status).toBe(503);
      expect(body.mode).toBeNull();
      expect(body.reasons.map((r) => r.component)).toEqual(['etcd', 'service']);
    });
    expect((await fetch(`${s.api}/read`)).status).toBe(503);
    await server.start();
    await eventually(async () => expect((await fetch(`${s.api}/read`)).status).toBe(200), 30_000);
    expect((await getHealth(s.base)).status).toBe(200);
  });
});

describe('the port of runService', () => {
  it("answers a request node refuses (headers too large) the way the kit's servers do: JSON", async () => {
    const etcd = await newEtcd();
    const s = await start(etcd, { normal: (api) => void api.get('/read', async () => 'ok') });
    await eventually(async () => expect((await fetch(`${s.api}/read`)).status).toBe(200));
    const url = new URL(`${s.api}/read`);
    const answer = await new Promise<{ status: number; type: string; body: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: { 'x-big': 'a'.repeat(64 * 1024) },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                type: String(res.headers['content-type']),
                body,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer.status).toBe(431);
    // node alone would answer without a body: the kit's handler answers JSON
    expect(answer.type).toMatch(/application\/json/);
    expect(() => JSON.parse(answer.body) as unknown).not.toThrow();
  });
});

describe('a mode that stops', () => {
  it('lets the requests it took finish before its onClose hooks run', async () => {
    const etcd = await newEtcd();
    let closed = false;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const controller = new AbortController();
    const port = await getFreePort();
    const { logger } = createCapturingLogger();
    let up!: () => void;
    const served = new Promise<void>((r) => (up = r));
    const done = runService({
      name: 'svc',
      etcd,
      signal: controller.signal,
      logger,
      listen: { host: '127.0.0.1', port },
      routes: {
        normal: (api) => {
          api.addHook('onClose', async () => {
            closed = true;
          });
          api.get('/slow', async () => {
            entered();
            await new Promise((r) => setTimeout(r, 300));
            return { closedWhileRunning: closed };
          });
        },
        maintenance: () => undefined,
      },
      onListening: () => up(),
    });
    await served;
    const res = fetch(`http://127.0.0.1:${port}${API_PREFIX}/slow`);
    await inHandler;
    controller.abort();
    const answer = await res;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ closedWhileRunning: false });
    await done;
    expect(closed).toBe(true);
  });
});

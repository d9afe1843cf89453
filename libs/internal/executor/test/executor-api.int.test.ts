import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestLogger } from '@agola-ts/testkit';
import { createExecutor, type AgolaExecutor } from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An executor whose runservice is unreachable: only its own API is exercised. */
async function start(dataDir?: string): Promise<{ ex: AgolaExecutor; dir: string }> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'ex-api-')));
  const ex = createExecutor(
    {
      dataDir: dir,
      runserviceURL: 'http://127.0.0.1:9',
      web: { listen: { host: '127.0.0.1', port: 0 } },
      driver: { type: 'local' },
    },
    { logger: createTestLogger('executor') },
  );
  await ex.start();
  cleanups.push(async () => {
    await ex.stop();
    if (!dataDir) await rm(dir, { recursive: true, force: true });
  });
  return { ex, dir };
}

describe('executor API', () => {
  it('keeps its id in the data dir across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ex-id-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { ex } = await start(dir);
    const id = ex.id;
    await ex.stop();
    expect((await readFile(join(dir, 'id'), 'utf8')).trim()).toBe(id);
    const { ex: again } = await start(dir);
    expect(again.id).toBe(id);
  });

  it('serves logs and archives of its tasks with their length; 404 when missing', async () => {
    const { ex, dir } = await start();
    await mkdir(join(dir, 'tasks', 't1', 'logs', 'steps'), { recursive: true });
    await mkdir(join(dir, 'tasks', 't1', 'archives'), { recursive: true });
    await writeFile(join(dir, 'tasks', 't1', 'logs', 'steps', '0.log'), 'hello\n');
    await writeFile(join(dir, 'tasks', 't1', 'archives', '2.tar'), 'tar-bytes');
    const log = await ex.app!.inject({ url: '/api/v1alpha/executor/logs?taskid=t1&step=0' });
    expect(log.statusCode).toBe(200);
    expect(log.headers['content-length']).toBe('6');
    expect(log.body).toBe('hello\n');
    // a finished task's log with follow ends at once
    const followed = await ex.app!.inject({
      url: '/api/v1alpha/executor/logs?taskid=t1&step=0&follow',
    });
    expect(followed.body).toBe('hello\n');
    const ar = await ex.app!.inject({ url: '/api/v1alpha/executor/archives?taskid=t1&step=2' });
    expect(ar.body).toBe('tar-bytes');
    const missing = await ex.app!.inject({ url: '/api/v1alpha/executor/logs?taskid=t1&setup' });
    expect(missing.statusCode).toBe(404);
    const noArchive = await ex.app!.inject({
      url: '/api/v1alpha/executor/archives?taskid=t2&step=0',
    });
    expect(noArchive.statusCode).toBe(404);
  });

  it('refuses bad task ids (no path traversal) and bad step refs with 400', async () => {
    const { ex } = await start();
    for (const q of [
      'taskid=..%2F..%2Fetc&step=0',
      'taskid=..&step=0',
      'taskid=t1&step=-1',
      'taskid=t1&step=1e3',
      'taskid=t1',
      'taskid=t1&setup&step=0',
    ]) {
      const res = await ex.app!.inject({ url: `/api/v1alpha/executor/logs?${q}` });
      expect(res.statusCode, q).toBe(400);
    }
    const push = await ex.app!.inject({
      method: 'POST',
      url: '/api/v1alpha/executor',
      payload: { id: '../x', spec: {}, status: { steps: [] } },
    });
    expect(push.statusCode).toBe(400);
  });

  it('answers GET /health, degraded while the runservice is unreachable', async () => {
    const { ex } = await start();
    const res = await ex.app!.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    const body = res.json() as { reasons: { component: string }[] };
    expect(body.reasons.map((r) => r.component)).toContain('heartbeat');
  });
});

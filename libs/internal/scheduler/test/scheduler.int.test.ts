import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEtcdClient } from '@agola-ts/etcd';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import { createTestLogger, sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';
import type { RunConfigTask } from '@agola-ts/types';
import { approversOf, createScheduler, type Scheduler } from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function runservice(): Promise<{ url: string; client: RunserviceClient }> {
  const etcd = createEtcdClient({
    endpoints: [await sharedEtcdEndpoint()],
    prefix: uniquePrefix('sched'),
  });
  const dir = await mkdtemp(join(tmpdir(), 'sched-'));
  const rs = createRunservice(
    {
      dataDir: join(dir, 'data'),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: join(dir, 'ost') },
    },
    { etcd, retryMs: 100, logger: createTestLogger('runservice') },
  );
  await rs.start();
  cleanups.push(async () => {
    await rs.stop();
    etcd.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { url: rs.url!, client: createRunserviceClient({ baseUrl: rs.url! }) };
}

async function scheduler(
  url: string,
  o: { events?: boolean; web?: boolean } = {},
): Promise<Scheduler> {
  const s = createScheduler(
    { runserviceURL: url, ...(o.web ? { web: { listen: { host: '127.0.0.1', port: 0 } } } : {}) },
    {
      logger: createTestLogger('scheduler'),
      // loops far apart: the passes under test run on events or by hand
      intervals: { scheduleMs: 60_000, approveMs: 60_000 },
      events: o.events ?? false,
    },
  );
  await s.start();
  cleanups.push(() => s.stop());
  return s;
}

let seq = 0;
const oneTask = (): Record<string, RunConfigTask> => {
  const id = `t${process.pid}-${++seq}`;
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
      steps: [{ type: 'run', command: 'true' }],
    },
  };
};

describe('scheduler', () => {
  it('starts at most one run per group, even with two schedulers passing at once', async () => {
    const { url, client } = await runservice();
    const main = '/project/p1/branch/main';
    const other = '/project/p1/branch/dev';
    const ids: string[] = [];
    for (const group of [main, main, main, other]) {
      ids.push((await client.createRun({ name: 'ci', group, run_config_tasks: oneTask() })).run.id);
    }
    const a = await scheduler(url);
    const b = await scheduler(url);
    await Promise.all([a.schedulePass(), b.schedulePass(), a.schedulePass(), b.schedulePass()]);
    await Promise.all([a.schedulePass(), b.schedulePass()]);
    const running = (await client.getRuns({ phase: ['running'] })).runs.map((r) => r.id).sort();
    // the oldest run of each group, and nothing else (no executor: they stay running)
    expect(running).toEqual([ids[0], ids[3]].sort());
    const queued = (await client.getRuns({ phase: ['queued'] })).runs.map((r) => r.id).sort();
    expect(queued).toEqual([ids[1], ids[2]].sort());
  });

  it('a run event wakes the schedule pass (the loop is a minute away)', async () => {
    const { url, client } = await runservice();
    await scheduler(url, { events: true });
    // let the event stream connect
    await new Promise((r) => setTimeout(r, 300));
    const { run } = await client.createRun({
      name: 'ci',
      group: '/project/p2/branch/main',
      run_config_tasks: oneTask(),
    });
    const deadline = Date.now() + 15_000;
    let phase = run.phase;
    while (phase !== 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      phase = (await client.getRun(run.id)).run.phase;
    }
    expect(phase).toBe('running');
  });

  it('answers GET /health', async () => {
    const { url } = await runservice();
    const s = await scheduler(url, { web: true });
    const res = await fetch(`http://127.0.0.1:${s.port}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ready');
  });

  it('reads approvers from the annotation, ignoring malformed ones', () => {
    expect(approversOf({ approvers: '["u1","u2"]' })).toEqual(['u1', 'u2']);
    expect(approversOf({ approvers: 'not json' })).toEqual([]);
    expect(approversOf({})).toEqual([]);
    expect(approversOf(undefined)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import {
  eventually,
  remoteError,
  runRequest,
  startExecutor,
  startFresh,
  task,
  waitRun,
} from './helpers.js';

async function text(it: AsyncIterable<Uint8Array>): Promise<string> {
  let s = '';
  for await (const c of it) s += Buffer.from(c).toString();
  return s;
}

async function waitArchived(client: RunserviceClient, runId: string) {
  return eventually(async () => {
    const { run } = await client.getRun(runId);
    expect(run.archived).toBe(true);
    return run;
  }, 20_000);
}

describe('logs, archives and caches', () => {
  it('fetches logs and archives into the object storage, archives the run, serves them', async () => {
    const { client, inst } = await startFresh();
    await startExecutor({ id: 'ex1', client });
    const { run } = await client.createRun(runRequest([task('a', { steps: 2, save: true })]));
    await client.startRun(run.id);
    await waitRun(client, run.id, 'finished', 'success');
    const archived = await waitArchived(client, run.id);
    const rt = archived.tasks['a']!;
    expect(rt.setup_step.log_phase).toBe('finished');
    expect(rt.steps.map((s) => s.log_phase)).toEqual(['finished', 'finished', 'finished']);
    expect(rt.workspace_archives_phase).toEqual(['finished']);
    // out of etcd, in the datamanager; still served (from the readdb)
    await eventually(async () => {
      const { kv } = await inst.etcd.get(`scheduler/runs/${run.id}`);
      expect(kv).toBeUndefined();
    });
    expect((await client.getRun(run.id)).run.id).toBe(run.id);
    expect((await client.getRuns({ phase: ['finished'] })).runs.map((r) => r.id)).toEqual([run.id]);
    // the OST layout of §7.7
    const ost = inst.ost!;
    await ost.stat(`logs/a/runs/${run.id}`);
    await ost.stat(`workspacearchives/a/runs/${run.id}`);
    expect(await text(await client.getLogs({ runId: run.id, taskId: 'a', step: 1 }))).toBe(
      'step 1 of a\n',
    );
    expect(await text(await client.getLogs({ runId: run.id, taskId: 'a', setup: true }))).toBe(
      'setup of a\n',
    );
    expect(Buffer.from(await client.getArchive('a', 2)).toString()).toBe('archive a 2');
    expect((await remoteError(client.getArchive('a', 7))).status).toBe(404);
    expect(
      (await remoteError(client.getLogs({ runId: run.id, taskId: 'zz', step: 0 }))).status,
    ).toBe(404);
    expect(
      (await remoteError(client.getLogs({ runId: run.id, taskId: 'a', step: 9 }))).status,
    ).toBe(404);
    // deleting a fetched log
    await client.deleteLogs({ runId: run.id, taskId: 'a', step: 1 });
    expect(
      (await remoteError(client.getLogs({ runId: run.id, taskId: 'a', step: 1 }))).status,
    ).toBe(404);
    expect(
      (await remoteError(client.deleteLogs({ runId: run.id, taskId: 'a', step: 1 }))).status,
    ).toBe(404);
  });

  it('proxies the live log of a running task from its executor; no delete before archiving', async () => {
    const { client } = await startFresh();
    await startExecutor({ id: 'ex1', client, outcome: () => 'hang' });
    const { run } = await client.createRun(runRequest([task('a')]));
    await client.startRun(run.id);
    await eventually(async () => {
      const { run: r } = await client.getRun(run.id);
      expect(r.tasks['a']?.status).toBe('running');
    });
    expect(
      await text(await client.getLogs({ runId: run.id, taskId: 'a', step: 0 }, { follow: true })),
    ).toBe('step 0 of a\n');
    const del = await remoteError(client.deleteLogs({ runId: run.id, taskId: 'a', step: 0 }));
    expect(del.code).toBe('ERR_RUNSERVICE_INVALID_STATE');
    const bad = await remoteError(
      client.getLogs({ runId: run.id, taskId: 'a', step: -1 } as never),
    );
    expect(bad.status).toBe(400);
  });

  it('caches: exact and prefix lookups (newest wins), 304 for an existing key, even racing', async () => {
    const { client } = await startFresh();
    expect(await client.hasCache('p1-deps-aaa')).toBe(false);
    expect((await remoteError(client.getCache('p1-deps-aaa'))).status).toBe(404);
    expect(await client.putCache('p1-deps-aaa', Buffer.from('old'))).toBe('created');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await client.putCache('p1-deps-bbb', Buffer.from('new'))).toBe('created');
    expect(await client.putCache('p1-deps-aaa', Buffer.from('other'))).toBe('exists');
    expect(Buffer.from(await client.getCache('p1-deps-aaa')).toString()).toBe('old');
    expect(await client.hasCache('p1-deps-', true)).toBe(true);
    expect(Buffer.from(await client.getCache('p1-deps-', true)).toString()).toBe('new');
    expect(await client.hasCache('p1-nothing-', true)).toBe(false);
    // a key with escaped characters stays escaped and is found again
    expect(await client.putCache('p1-a/b', Buffer.from('slash'))).toBe('created');
    expect(Buffer.from(await client.getCache('p1-a/b')).toString()).toBe('slash');
    // racing uploads of one key: exactly one is stored whole
    const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(256 * 1024, 65 + i));
    const results = await Promise.all(bodies.map((b) => client.putCache('race', b)));
    expect(results.filter((r) => r === 'created').length).toBeGreaterThanOrEqual(1);
    const stored = Buffer.from(await client.getCache('race'));
    expect(bodies.some((b) => b.equals(stored))).toBe(true);
    expect(await client.putCache('race', Buffer.from('late'))).toBe('exists');
    expect(await client.putCache('k'.repeat(150), Buffer.from('x'))).toBe('created');
    const long = await remoteError(client.putCache('k'.repeat(201), Buffer.from('x')));
    expect(long.status).toBe(400);
  });

  it('the cleaners delete caches and workspace archives older than the configured age', async () => {
    const { client, rs, inst } = await startFresh({
      cacheExpireMs: 500,
      workspaceExpireMs: 60_000,
    });
    await client.putCache('old-cache', Buffer.from('x'));
    await inst.ost!.write('workspacearchives/t1/data/0.tar', 'w');
    await new Promise((r) => setTimeout(r, 700));
    await client.putCache('new-cache', Buffer.from('y'));
    const cleaned = await rs.engine!.cleanNow();
    expect(cleaned).toEqual({ caches: 1, workspaces: 0 });
    expect(await client.hasCache('old-cache')).toBe(false);
    expect(await client.hasCache('new-cache')).toBe(true);
  });
});

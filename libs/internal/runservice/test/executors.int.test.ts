import { describe, expect, it } from 'vitest';
import {
  eventually,
  remoteError,
  runRequest,
  startExecutor,
  startFresh,
  task,
  waitRun,
} from './helpers.js';

describe('executors', () => {
  it('serves executor tasks with regenerated spec data and takes status updates', async () => {
    const { client, inst } = await startFresh();
    const ex = await startExecutor({
      id: 'ex1',
      client,
      outcome: () => 'hang',
    });
    const { run } = await client.createRun(
      runRequest([task('a', { steps: 2 })], 'p1', {
        static_environment: { S: 's', E: 'static' },
        environment: { E: 'env' },
      }),
    );
    await client.startRun(run.id);
    await eventually(async () => expect(ex.received.get('a')).toBe(1));
    const list = await client.getExecutorTasks('ex1');
    expect(list.map((t) => t.id)).toEqual(['a']);
    const et = await client.getExecutorTask('ex1', 'a');
    expect(et.spec.run_id).toBe(run.id);
    expect(et.spec.steps).toHaveLength(2);
    expect(et.spec.environment).toMatchObject({ S: 's', E: 'env' });
    expect(et.spec.cache_prefix).toBe('p1');
    // the spec data is never stored in etcd
    const { kv } = await inst.etcd.get('scheduler/tasks/a');
    const stored = JSON.parse(kv!.value.toString()) as { spec: Record<string, unknown> };
    expect(Object.keys(stored.spec).sort()).toEqual(['executor_id', 'run_id']);
    expect((await remoteError(client.getExecutorTask('ex1', 'nope'))).status).toBe(404);
    // a status for a missing task, or a bad status, is a 400
    const missing = await remoteError(
      client.updateExecutorTaskStatus('ex1', {
        id: 'nope',
        status: { phase: 'running', setup_step: { phase: 'running' }, steps: [] },
      }),
    );
    expect(missing.status).toBe(400);
    const bad = await remoteError(
      client.updateExecutorTaskStatus('ex1', {
        id: 'a',
        status: { phase: 'exploded' as 'running', setup_step: { phase: 'running' }, steps: [] },
      }),
    );
    expect(bad.status).toBe(400);
    await ex.finish('a', 'success');
    await waitRun(client, run.id, 'finished', 'success');
  });

  it('a deleted executor fails its unfinished tasks with "executor deleted"', async () => {
    const { client, inst } = await startFresh();
    const ex = await startExecutor({
      id: 'ex1',
      client,
      outcome: () => 'hang',
      heartbeatMs: 60_000,
    });
    const { run } = await client.createRun(runRequest([task('a')]));
    await client.startRun(run.id);
    await eventually(async () => expect(ex.received.get('a')).toBe(1));
    await eventually(async () => {
      const { run: r } = await client.getRun(run.id);
      expect(r.tasks['a']?.status).toBe('running');
    });
    await client.deleteExecutor('ex1');
    const done = await waitRun(client, run.id, 'finished', 'failed');
    expect(done.tasks['a']?.status).toBe('failed');
    const { kv } = await inst.etcd.get('scheduler/tasks/a');
    if (kv) {
      const et = JSON.parse(kv.value.toString()) as { status: { fail_error?: string } };
      expect(et.status.fail_error).toBe('executor deleted');
    }
  });

  it('heartbeats register executors; dynamic siblings no longer listed are removed', async () => {
    const { client, inst } = await startFresh();
    const base = { listenURL: 'http://127.0.0.1:1', last_status_update_time: '' };
    await client.executorHeartbeat({
      ...base,
      id: 'd1',
      dynamic: true,
      executor_group: 'g',
      siblings_executors: ['d1', 'd2'],
    });
    await client.executorHeartbeat({
      ...base,
      id: 'd2',
      dynamic: true,
      executor_group: 'g',
      siblings_executors: ['d1', 'd2'],
    });
    await client.executorHeartbeat({ ...base, id: 'other', dynamic: true, executor_group: 'h' });
    await client.executorHeartbeat({ ...base, id: 'static', executor_group: 's' });
    const keys = async () =>
      (await inst.etcd.list('scheduler/executors/')).kvs.map((k) => k.key.split('/').pop()).sort();
    expect(await keys()).toEqual(['d1', 'd2', 'other', 'static']);
    // d1 no longer lists d2: d2 is gone, the static executor and the other group stay
    await client.executorHeartbeat({
      ...base,
      id: 'd1',
      dynamic: true,
      executor_group: 'g',
      siblings_executors: ['d1'],
    });
    expect(await keys()).toEqual(['d1', 'other', 'static']);
    const { kv } = await inst.etcd.get('scheduler/executors/d1');
    const stored = JSON.parse(kv!.value.toString()) as { last_status_update_time: string };
    expect(Date.now() - Date.parse(stored.last_status_update_time)).toBeLessThan(60_000);
    const bad = await remoteError(
      client.executorHeartbeat({ ...base, id: 'x', listenURL: 'ftp://nope' }),
    );
    expect(bad.status).toBe(400);
  });

  it('a task waits for an executor that is alive, with room, and the right arch', async () => {
    const { client } = await startFresh();
    const t = task('a');
    t.runtime = { type: 'pod', arch: 'arm64', containers: t.runtime!.containers };
    const { run } = await client.createRun(runRequest([t]));
    await client.startRun(run.id);
    const amd = await startExecutor({ id: 'amd', client });
    await new Promise((r) => setTimeout(r, 500));
    expect(amd.received.size).toBe(0);
    const arm = await startExecutor({ id: 'arm', client, executor: { archs: ['arm64'] } });
    await waitRun(client, run.id, 'finished', 'success');
    expect(arm.received.get('a')).toBe(1);
  });
});

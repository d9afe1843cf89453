import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@agola-ts/types';
import {
  eventually,
  remoteError,
  runRequest,
  startExecutor,
  startFresh,
  task,
  waitRun,
} from './helpers.js';

describe('run and task actions', () => {
  it('approval: a task waits until approved, then runs', async () => {
    const { client } = await startFresh();
    const ex = await startExecutor({ id: 'ex1', client });
    const { run } = await client.createRun(
      runRequest([
        task('build'),
        task('deploy', { depends: { build: ['on_success'] }, approval: true }),
      ]),
    );
    // approving a task that does not wait yet is refused
    const early = await remoteError(client.approveRunTask(run.id, 'deploy'));
    expect(early.status).toBe(400);
    expect(early.code).toBe('ERR_RUNSERVICE_INVALID_STATE');
    await client.startRun(run.id);
    await eventually(async () => {
      const { run: r } = await client.getRun(run.id);
      expect(r.tasks['deploy']?.waiting_approval).toBe(true);
    });
    expect(ex.received.has('deploy')).toBe(false);
    await client.setRunTaskAnnotations(run.id, 'deploy', { approvers: '["u1"]' });
    await client.approveRunTask(run.id, 'deploy');
    const again = await remoteError(client.approveRunTask(run.id, 'deploy'));
    expect(again.status).toBe(400);
    const done = await waitRun(client, run.id, 'finished', 'success');
    expect(done.tasks['deploy']?.approved).toBe(true);
    expect(done.tasks['deploy']?.annotations).toEqual({ approvers: '["u1"]' });
    expect(ex.received.get('deploy')).toBe(1);
  });

  it('stop: running tasks get stop, the run ends stopped and later tasks are skipped', async () => {
    const { client } = await startFresh();
    const ex = await startExecutor({
      id: 'ex1',
      client,
      outcome: (t) => (t.spec.task_name === 'long' ? 'hang' : 'success'),
    });
    const { run } = await client.createRun(
      runRequest([task('long'), task('after', { depends: { long: ['on_success'] } })]),
    );
    // stop is only for running runs
    expect((await remoteError(client.stopRun(run.id))).code).toBe('ERR_RUNSERVICE_INVALID_STATE');
    await client.startRun(run.id);
    await eventually(async () => expect(ex.received.get('long')).toBe(1));
    await client.stopRun(run.id);
    const done = await waitRun(client, run.id, 'finished', 'stopped');
    expect(done.tasks['long']?.status).toBe('stopped');
    expect(done.tasks['after']?.status).toBe('skipped');
    expect(ex.tasks.get('long')?.spec.stop).toBe(true);
  });

  it('cancel: only a queued run; a running one is refused', async () => {
    const { client } = await startFresh();
    const a = await client.createRun(runRequest([task('t')]));
    await client.cancelRun(a.run.id);
    const { run } = await client.getRun(a.run.id);
    expect(run.phase).toBe('cancelled');
    expect(run.end_time).toBeTruthy();
    const again = await remoteError(client.cancelRun(a.run.id));
    expect(again.status).toBe(400);
    const start = await remoteError(client.startRun(a.run.id));
    expect(start.code).toBe('ERR_RUNSERVICE_INVALID_STATE');
    const bad = await remoteError(
      client.runAction(a.run.id, { action_type: 'changephase', phase: 'finished' }),
    );
    expect(bad.code).toBe('ERR_RUNSERVICE_INVALID_REQUEST');
  });

  it('failure paths: on_failure runs, on_success is skipped, the run fails', async () => {
    const { client } = await startFresh();
    await startExecutor({
      id: 'ex1',
      client,
      outcome: (t) => (t.spec.task_name === 'test' ? 'failed' : 'success'),
    });
    const { run } = await client.createRun(
      runRequest([
        task('test'),
        task('notify', { depends: { test: ['on_failure'] } }),
        task('deploy', { depends: { test: ['on_success'] } }),
        task('smoke', { depends: { deploy: ['on_success'] } }),
        task('cleanup', { depends: { smoke: ['on_skipped'] } }),
      ]),
    );
    await client.startRun(run.id);
    const done = await waitRun(client, run.id, 'finished', 'failed');
    // a chain of skips settles, and on_skipped runs
    expect(done.tasks['smoke']?.status).toBe('skipped');
    expect(done.tasks['cleanup']?.status).toBe('success');
    expect(done.tasks['test']?.status).toBe('failed');
    expect(done.tasks['notify']?.status).toBe('success');
    expect(done.tasks['deploy']?.status).toBe('skipped');
  });

  it('restarts from failed tasks (new ids for them and their children) and from scratch', async () => {
    const { client } = await startFresh();
    let failTest = true;
    const ex = await startExecutor({
      id: 'ex1',
      client,
      outcome: (t) => (t.spec.task_name === 'test' && failTest ? 'failed' : 'success'),
    });
    const { run } = await client.createRun(
      runRequest([
        task('build', { save: true }),
        task('test', { depends: { build: ['on_success'] } }),
        task('deploy', { depends: { test: ['on_success'] } }),
      ]),
    );
    await client.startRun(run.id);
    await waitRun(client, run.id, 'finished', 'failed');
    // the restart rules: not from a running/queued run, not with from failed on success
    failTest = false;
    const re = await eventually(() =>
      client.createRun({ run_id: run.id, from_start: false, group: run.group }),
    );
    expect(re.run.id).not.toBe(run.id);
    const kept = re.run.tasks['build'];
    expect(kept?.status).toBe('success');
    const newIds = Object.keys(re.run.tasks).filter((id) => id !== 'build');
    expect(newIds).toHaveLength(2);
    expect(newIds).not.toContain('test');
    await client.startRun(re.run.id);
    const done = await waitRun(client, re.run.id, 'finished', 'success');
    expect(Object.values(done.tasks).every((t) => t.status === 'success')).toBe(true);
    // build was not run again
    expect(ex.received.get('build')).toBe(1);
    // a successful run cannot restart from failed tasks, but from scratch it can
    const denied = await remoteError(client.createRun({ run_id: re.run.id, group: run.group }));
    expect(denied.code).toBe('ERR_RUNSERVICE_INVALID_STATE');
    const scratch = await client.createRun({
      run_id: re.run.id,
      from_start: true,
      group: run.group,
    });
    expect(Object.keys(scratch.run.tasks)).not.toContain('build');
    expect(Object.values(scratch.run.tasks).every((t) => t.status === 'notstarted')).toBe(true);
  });

  it('run events stream phase and result changes as SSE', async () => {
    const { client } = await startFresh();
    await startExecutor({ id: 'ex1', client });
    const ac = new AbortController();
    const events: RunEvent[] = [];
    const reading = (async () => {
      for await (const ev of client.runEvents({ signal: ac.signal })) events.push(ev);
    })();
    await new Promise((r) => setTimeout(r, 300));
    const { run } = await client.createRun(runRequest([task('a')]));
    await client.startRun(run.id);
    await waitRun(client, run.id, 'finished', 'success');
    await eventually(async () => {
      const mine = events.filter((e) => e.RunID === run.id).map((e) => `${e.Phase}/${e.Result}`);
      expect(mine).toEqual([
        'queued/unknown',
        'running/unknown',
        'running/success',
        'finished/success',
      ]);
    });
    const seqs = events.map((e) => e.Sequence);
    expect([...seqs].sort()).toEqual(seqs);
    ac.abort();
    await reading;
  });

  it('change group tokens make concurrent writers conflict', async () => {
    const { client } = await startFresh();
    const { run } = await client.createRun(runRequest([task('a')]));
    const token = await client.getChangeGroupsUpdateToken(['approval-x']);
    const fromGet = await client.getRun(run.id, ['approval-x']);
    expect(fromGet.change_groups_update_tokens).toBe(token);
    await client.setRunTaskAnnotations(run.id, 'a', { k: 'v1' }, token);
    // the same token again: the group moved
    const stale = await remoteError(client.setRunTaskAnnotations(run.id, 'a', { k: 'v2' }, token));
    expect(stale.code).toBe('ERR_RUNSERVICE_CONCURRENT_UPDATE');
    const bad = await remoteError(client.setRunTaskAnnotations(run.id, 'a', {}, '%%%'));
    expect(bad.status).toBe(400);
    const missing = await remoteError(client.approveRunTask(run.id, 'nope'));
    expect(missing.status).toBe(400);
  });
});

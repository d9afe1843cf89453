import { describe, expect, it } from 'vitest';
import { remoteError, runRequest, startExecutor, startFresh, task, waitRun } from './helpers.js';

describe('runs', () => {
  it('creates a run, starts it and drives it to success through a pushed executor', async () => {
    const { client } = await startFresh();
    const ex = await startExecutor({ id: 'ex1', client });
    const { run, run_config } = await client.createRun(
      runRequest([task('a', { save: true }), task('b', { depends: { a: ['on_success'] } })]),
    );
    expect(run.phase).toBe('queued');
    expect(run.counter).toBe(1);
    expect(run_config.tasks['b']?.level).toBe(1);
    await client.startRun(run.id);
    const done = await waitRun(client, run.id, 'finished', 'success');
    expect(done.tasks['a']?.status).toBe('success');
    expect(done.tasks['b']?.status).toBe('success');
    expect(ex.received.get('a')).toBe(1);
    expect(ex.received.get('b')).toBe(1);
    // b's spec restores a's workspace
    expect(ex.tasks.get('b')?.spec.workspace_operations).toEqual([{ task_id: 'a', step: 1 }]);
    const second = await client.createRun(runRequest([task('c')]));
    expect(second.run.counter).toBe(2);
  });

  it('answers 404 for a missing run and 400 for a bad create', async () => {
    const { client } = await startFresh();
    expect((await remoteError(client.getRun('nope'))).status).toBe(404);
    const bad = await remoteError(client.createRun({ group: 'relative', run_config_tasks: {} }));
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('ERR_RUNSERVICE_INVALID_REQUEST');
  });
});

import type { Run, RunConfig, RunConfigTask, RunTask } from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import {
  advanceRun,
  advanceRunTasks,
  finishFetchOfUnscheduledTasks,
  getTasksToRun,
  settleRunTasks,
} from './advance.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function rct(
  id: string,
  depends: Record<string, RunConfigTask['depends'][string]> = {},
): RunConfigTask {
  return {
    id,
    name: id,
    level: 0,
    depends,
    runtime: {
      type: 'pod',
      containers: [{ image: 'image01', privileged: false, entrypoint: '', volumes: [] }],
    },
    environment: {},
    steps: [],
  };
}

function rt(id: string, status: RunTask['status'] = 'notstarted'): RunTask {
  return {
    id,
    status,
    setup_step: { phase: 'notstarted', log_phase: 'notstarted', exit_status: null },
    steps: [],
    workspace_archives: [],
    workspace_archives_phase: [],
  };
}

// task01 → task02; task03, task04 → task05; as in Agola's scheduler tests
function baseConfig(): RunConfig {
  return {
    id: 'run1',
    name: 'run',
    group: '/project/p1/branch/main',
    tasks: {
      task01: rct('task01'),
      task02: rct('task02', { task01: { task_id: 'task01', conditions: ['on_success'] } }),
      task03: rct('task03'),
      task04: rct('task04'),
      task05: rct('task05', {
        task03: { task_id: 'task03', conditions: ['on_success'] },
        task04: { task_id: 'task04', conditions: ['on_success'] },
      }),
    },
  };
}

function baseRun(): Run {
  return {
    id: 'run1',
    name: 'run',
    counter: 1,
    group: '/project/p1/branch/main',
    phase: 'running',
    result: 'unknown',
    tasks: Object.fromEntries(
      ['task01', 'task02', 'task03', 'task04', 'task05'].map((id) => [id, rt(id)]),
    ),
  };
}

type Statuses = Partial<Record<string, RunTask['status']>>;

function statuses(run: Run): Statuses {
  return Object.fromEntries(Object.values(run.tasks).map((t) => [t.id, t.status]));
}

function withStatuses(run: Run, s: Statuses): Run {
  for (const [id, st] of Object.entries(s)) run.tasks[id]!.status = st!;
  return run;
}

function skipTasks(rc: RunConfig, run: Run, ids: string[]): void {
  for (const id of ids) {
    rc.tasks[id]!.skip = true;
    run.tasks[id]!.skip = true;
    run.tasks[id]!.status = 'skipped';
  }
}

describe('advanceRunTasks (Agola scheduler table)', () => {
  it('leaves top level tasks not started', () => {
    const run = baseRun();
    expect(advanceRunTasks(run, baseConfig(), [])).toEqual(run);
  });

  it('skips a task whose only parent is skipped', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task01']);
    expect(statuses(advanceRunTasks(run, rc, []))).toEqual({
      task01: 'skipped',
      task02: 'skipped',
      task03: 'notstarted',
      task04: 'notstarted',
      task05: 'notstarted',
    });
  });

  it('skips a task whose parents are all skipped', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03', 'task04']);
    expect(statuses(advanceRunTasks(run, rc, []))['task05']).toBe('skipped');
  });

  it('skips a task when one parent does not match the default on_success', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03']);
    withStatuses(run, { task04: 'success' });
    expect(statuses(advanceRunTasks(run, rc, []))).toEqual({
      task01: 'notstarted',
      task02: 'notstarted',
      task03: 'skipped',
      task04: 'success',
      task05: 'skipped',
    });
  });

  it('skips a task when one parent does not match a custom condition', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03']);
    rc.tasks['task05']!.depends['task03']!.conditions = ['on_failure'];
    withStatuses(run, { task04: 'success' });
    expect(statuses(advanceRunTasks(run, rc, []))['task05']).toBe('skipped');
  });

  it('runs a task whose skipped parent matches on_skipped', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03']);
    rc.tasks['task05']!.depends['task03']!.conditions = ['on_skipped'];
    withStatuses(run, { task04: 'success' });
    const out = advanceRunTasks(run, rc, []);
    expect(out.tasks['task05']).toEqual(rt('task05'));
    expect(
      getTasksToRun(out, rc)
        .map((t) => t.id)
        .sort(),
    ).toEqual(['task01', 'task05']);
  });

  it('runs a task on a failed parent with on_failure, and skips it on success', () => {
    const rc = baseConfig();
    rc.tasks['task02']!.depends['task01']!.conditions = ['on_failure'];
    const failed = withStatuses(baseRun(), { task01: 'failed' });
    expect(advanceRunTasks(failed, rc, []).tasks['task02']!.status).toBe('notstarted');
    expect(getTasksToRun(failed, rc).map((t) => t.id)).toContain('task02');
    const ok = withStatuses(baseRun(), { task01: 'success' });
    expect(advanceRunTasks(ok, rc, []).tasks['task02']!.status).toBe('skipped');
    expect(getTasksToRun(ok, rc).map((t) => t.id)).not.toContain('task02');
  });

  it('matches any of several conditions', () => {
    const rc = baseConfig();
    rc.tasks['task02']!.depends['task01']!.conditions = ['on_success', 'on_failure'];
    for (const s of ['success', 'failed'] as const) {
      const run = withStatuses(baseRun(), { task01: s });
      expect(advanceRunTasks(run, rc, []).tasks['task02']!.status).toBe('notstarted');
    }
    const stopped = withStatuses(baseRun(), { task01: 'stopped' });
    expect(advanceRunTasks(stopped, rc, []).tasks['task02']!.status).toBe('skipped');
  });

  it('skips a task whose depend has no condition', () => {
    const rc = baseConfig();
    rc.tasks['task02']!.depends['task01']!.conditions = [];
    const run = withStatuses(baseRun(), { task01: 'success' });
    expect(advanceRunTasks(run, rc, []).tasks['task02']!.status).toBe('skipped');
  });

  it('does not set waiting approval on a task that is skipped', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03']);
    rc.tasks['task05']!.needs_approval = true;
    withStatuses(run, { task04: 'success' });
    const out = advanceRunTasks(run, rc, []);
    expect(out.tasks['task05']!.status).toBe('skipped');
    expect(out.tasks['task05']!.waiting_approval).toBeUndefined();
  });

  it('sets waiting approval when all parents are finished and the task is not skipped', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task03']);
    rc.tasks['task05']!.needs_approval = true;
    rc.tasks['task05']!.depends['task03']!.conditions = ['on_skipped'];
    withStatuses(run, { task04: 'success' });
    const out = advanceRunTasks(run, rc, []);
    expect(out.tasks['task05']).toEqual({ ...rt('task05'), waiting_approval: true });
    // not approved yet: not to run
    expect(getTasksToRun(out, rc).map((t) => t.id)).toEqual(['task01']);
    // an approved task is not set waiting again, and runs
    const approved = structuredClone(out);
    approved.tasks['task05']!.waiting_approval = false;
    approved.tasks['task05']!.approved = true;
    expect(advanceRunTasks(approved, rc, []).tasks['task05']!.waiting_approval).toBe(false);
    expect(
      getTasksToRun(approved, rc)
        .map((t) => t.id)
        .sort(),
    ).toEqual(['task01', 'task05']);
  });

  it('cancels every not started root task when the run has a result', () => {
    const run = withStatuses(baseRun(), { task04: 'success' });
    run.result = 'success';
    expect(statuses(advanceRunTasks(run, baseConfig(), []))).toEqual({
      task01: 'cancelled',
      task02: 'notstarted',
      task03: 'cancelled',
      task04: 'success',
      task05: 'notstarted',
    });
  });

  it('does not cancel a root task already scheduled', () => {
    const run = withStatuses(baseRun(), { task04: 'success' });
    run.result = 'success';
    expect(statuses(advanceRunTasks(run, baseConfig(), [{ id: 'task01' }]))).toEqual({
      task01: 'notstarted',
      task02: 'notstarted',
      task03: 'cancelled',
      task04: 'success',
      task05: 'notstarted',
    });
  });

  it('skips every not started, unscheduled task when the run is set to stop', () => {
    const run = withStatuses(baseRun(), {
      task01: 'running',
      task03: 'cancelled',
      task04: 'success',
    });
    run.stop = true;
    expect(statuses(advanceRunTasks(run, baseConfig(), [{ id: 'task01' }]))).toEqual({
      task01: 'running',
      task02: 'skipped',
      task03: 'cancelled',
      task04: 'success',
      task05: 'skipped',
    });
  });

  it('waits for the parents archives to be fetched', () => {
    const rc = baseConfig();
    const run = withStatuses(baseRun(), { task01: 'success' });
    run.tasks['task01']!.workspace_archives = [0];
    run.tasks['task01']!.workspace_archives_phase = ['notstarted'];
    expect(advanceRunTasks(run, rc, []).tasks['task02']!.status).toBe('notstarted');
    expect(getTasksToRun(run, rc).map((t) => t.id)).not.toContain('task02');
    run.tasks['task01']!.workspace_archives_phase = ['finished'];
    expect(getTasksToRun(run, rc).map((t) => t.id)).toContain('task02');
  });

  it('reads the run as given: a chain moves one hop per call', () => {
    const rc = baseConfig();
    rc.tasks['task03'] = rct('task03', {
      task02: { task_id: 'task02', conditions: ['on_success'] },
    });
    const run = withStatuses(baseRun(), { task01: 'skipped' });
    const once = advanceRunTasks(run, rc, []);
    expect(once.tasks['task02']!.status).toBe('skipped');
    expect(once.tasks['task03']!.status).toBe('notstarted');
    expect(advanceRunTasks(once, rc, []).tasks['task03']!.status).toBe('skipped');
  });

  it('settles a chain of skips in one call with settleRunTasks', () => {
    const rc = baseConfig();
    rc.tasks['task03'] = rct('task03', {
      task02: { task_id: 'task02', conditions: ['on_success'] },
    });
    const run = withStatuses(baseRun(), { task01: 'skipped' });
    const settled = settleRunTasks(run, rc, []);
    expect(statuses(settled)).toEqual({
      task01: 'skipped',
      task02: 'skipped',
      task03: 'skipped',
      task04: 'notstarted',
      task05: 'notstarted',
    });
    expect(settleRunTasks(settled, rc, [])).toEqual(settled);
  });

  it('settles cancelled roots into skipped children, where advanceRunTasks stops after one hop', () => {
    const run = withStatuses(baseRun(), { task04: 'success' });
    run.result = 'failed';
    expect(statuses(advanceRunTasks(run, baseConfig(), []))['task02']).toBe('notstarted');
    expect(statuses(settleRunTasks(run, baseConfig(), []))).toEqual({
      task01: 'cancelled',
      task02: 'skipped',
      task03: 'cancelled',
      task04: 'success',
      task05: 'skipped',
    });
  });

  it('never changes its input', () => {
    const run = withStatuses(baseRun(), { task04: 'success' });
    run.result = 'failed';
    run.stop = true;
    const copy = structuredClone(run);
    advanceRunTasks(run, baseConfig(), []);
    expect(run).toEqual(copy);
  });

  it('throws for a run task without config task', () => {
    const rc = baseConfig();
    delete rc.tasks['task05'];
    expect(() => advanceRunTasks(baseRun(), rc, [])).toThrow(
      'no such run config task with id task05 for run config run1',
    );
  });
});

describe('getTasksToRun (Agola scheduler table)', () => {
  const ids = (run: Run, rc: RunConfig): string[] =>
    getTasksToRun(run, rc)
      .map((t) => t.id)
      .sort();

  it('runs top level tasks', () => {
    expect(ids(baseRun(), baseConfig())).toEqual(['task01', 'task03', 'task04']);
  });

  it('does not run skipped tasks', () => {
    const rc = baseConfig();
    const run = baseRun();
    skipTasks(rc, run, ['task01']);
    withStatuses(run, { task02: 'skipped' });
    expect(ids(run, rc)).toEqual(['task03', 'task04']);
  });

  it('does not run a task that needs approval and is not approved', () => {
    const rc = baseConfig();
    rc.tasks['task01']!.needs_approval = true;
    expect(ids(baseRun(), rc)).toEqual(['task03', 'task04']);
  });

  it('runs a task that needs approval once approved', () => {
    const rc = baseConfig();
    rc.tasks['task01']!.needs_approval = true;
    const run = baseRun();
    run.tasks['task01']!.approved = true;
    expect(ids(run, rc)).toEqual(['task01', 'task03', 'task04']);
  });

  it('runs children once every parent succeeded', () => {
    const run = withStatuses(baseRun(), {
      task01: 'success',
      task03: 'success',
      task04: 'running',
    });
    expect(ids(run, baseConfig())).toEqual(['task02']);
    run.tasks['task04']!.status = 'success';
    expect(ids(run, baseConfig())).toEqual(['task02', 'task05']);
  });
});

describe('advanceRun', () => {
  const rc = baseConfig();
  const opts = { runConfig: rc, scheduledExecutorTasks: [], now: NOW };

  it('keeps a running run without result while tasks run', () => {
    const run = withStatuses(baseRun(), { task01: 'running' });
    expect(advanceRun(run, opts)).toEqual({ run, events: false });
  });

  it('fails the run when a task fails, and finishes it once all tasks and executor tasks are done', () => {
    const run = withStatuses(baseRun(), { task01: 'failed', task03: 'running' });
    const failed = advanceRun(run, opts);
    expect(failed.events).toBe(true);
    expect(failed.run.result).toBe('failed');
    expect(failed.run.phase).toBe('running');

    withStatuses(failed.run, {
      task02: 'skipped',
      task03: 'success',
      task04: 'cancelled',
      task05: 'skipped',
    });
    const scheduled = advanceRun(failed.run, {
      ...opts,
      scheduledExecutorTasks: [{ id: 'task03' }],
    });
    expect(scheduled).toEqual({ run: failed.run, events: false });

    const done = advanceRun(failed.run, opts);
    expect(done.events).toBe(true);
    expect(done.run.phase).toBe('finished');
    expect(done.run.result).toBe('failed');
    expect(done.run.end_time).toBe('2026-01-02T03:04:05.000Z');
  });

  it('ignores a failed task with ignore_failure', () => {
    const ignoring = baseConfig();
    ignoring.tasks['task01']!.ignore_failure = true;
    const run = withStatuses(baseRun(), { task01: 'failed', task03: 'running' });
    expect(advanceRun(run, { ...opts, runConfig: ignoring }).run.result).toBe('unknown');
    withStatuses(run, {
      task02: 'skipped',
      task03: 'success',
      task04: 'success',
      task05: 'success',
    });
    expect(advanceRun(run, { ...opts, runConfig: ignoring }).run.result).toBe('success');
  });

  it('sets success when all tasks finished, and the phase only on the next call', () => {
    const run = withStatuses(baseRun(), {
      task01: 'success',
      task02: 'success',
      task03: 'success',
      task04: 'success',
      task05: 'skipped',
    });
    const first = advanceRun(run, opts);
    expect(first.events).toBe(true);
    expect(first.run.result).toBe('success');
    expect(first.run.phase).toBe('running');
    const second = advanceRun(first.run, opts);
    expect(second.events).toBe(true);
    expect(second.run.phase).toBe('finished');
    expect(advanceRun(second.run, opts).events).toBe(false);
  });

  it('sets stopped on a stopped run, and finishes it once its executor task is gone', () => {
    const run = withStatuses(baseRun(), { task01: 'running' });
    run.stop = true;
    run.tasks['task02'] = {
      ...rt('task02'),
      steps: [{ phase: 'notstarted', log_phase: 'notstarted', exit_status: null }],
      workspace_archives: [0],
      workspace_archives_phase: ['notstarted'],
    };
    const stopped = advanceRun(run, { ...opts, scheduledExecutorTasks: [{ id: 'task01' }] });
    expect(stopped.run.result).toBe('stopped');
    expect(stopped.run.phase).toBe('running');
    expect(stopped.run.tasks['task02']!.setup_step.log_phase).toBe('notstarted');

    const tasksDone = advanceRunTasks(stopped.run, rc, [{ id: 'task01' }]);
    expect(statuses(tasksDone)).toEqual({
      task01: 'running',
      task02: 'skipped',
      task03: 'skipped',
      task04: 'skipped',
      task05: 'skipped',
    });
    withStatuses(tasksDone, { task01: 'stopped' });
    const stillScheduled = advanceRun(tasksDone, {
      ...opts,
      scheduledExecutorTasks: [{ id: 'task01' }],
    });
    expect(stillScheduled.run.phase).toBe('running');
    const finished = advanceRun(tasksDone, opts);
    expect(finished.run.phase).toBe('finished');
    expect(finished.run.result).toBe('stopped');
  });

  it('marks the fetch phases of never started tasks finished once the run is finished', () => {
    const run = baseRun();
    run.phase = 'cancelled';
    run.result = 'failed';
    run.tasks['task01'] = {
      ...rt('task01'),
      steps: [{ phase: 'notstarted', log_phase: 'notstarted', exit_status: null }],
      workspace_archives: [0],
      workspace_archives_phase: ['notstarted'],
    };
    withStatuses(run, { task03: 'success' });
    const out = advanceRun(run, opts).run;
    expect(out.tasks['task01']!.setup_step.log_phase).toBe('finished');
    expect(out.tasks['task01']!.steps[0]!.log_phase).toBe('finished');
    expect(out.tasks['task01']!.workspace_archives_phase).toEqual(['finished']);
    expect(out.tasks['task03']!.setup_step.log_phase).toBe('notstarted');
    expect(out.phase).toBe('cancelled');
  });

  it('lets a run cancelled while queued be archived: its tasks have nothing to fetch', () => {
    const run = baseRun();
    run.phase = 'cancelled';
    run.tasks['task01']!.workspace_archives = [0];
    run.tasks['task01']!.workspace_archives_phase = ['notstarted'];
    const out = advanceRun(run, opts);
    expect(out.events).toBe(false);
    expect(out.run.result).toBe('unknown');
    for (const rt of Object.values(out.run.tasks)) {
      expect(rt.setup_step.log_phase).toBe('finished');
      expect(rt.workspace_archives_phase.every((p) => p === 'finished')).toBe(true);
    }
  });

  it('does nothing to a queued run', () => {
    const run = baseRun();
    run.phase = 'queued';
    withStatuses(run, { task01: 'failed' });
    expect(advanceRun(run, opts)).toEqual({ run, events: false });
  });

  it('never changes its input', () => {
    const run = withStatuses(baseRun(), { task01: 'failed' });
    const copy = structuredClone(run);
    advanceRun(run, opts);
    expect(run).toEqual(copy);
  });
});

describe('finishFetchOfUnscheduledTasks', () => {
  it('marks the fetch phases of finished tasks without executor task, so children can run', () => {
    const rc = baseConfig();
    rc.tasks['task02']!.depends['task01']!.conditions = ['on_skipped'];
    const run = withStatuses(baseRun(), { task01: 'skipped', task03: 'running' });
    run.tasks['task01'] = {
      ...run.tasks['task01']!,
      steps: [{ phase: 'notstarted', log_phase: 'notstarted', exit_status: null }],
      workspace_archives: [0],
      workspace_archives_phase: ['notstarted'],
    };
    expect(getTasksToRun(run, rc).map((t) => t.id)).not.toContain('task02');

    const { run: out, changed } = finishFetchOfUnscheduledTasks(run, [{ id: 'task03' }]);
    expect(changed).toBe(true);
    expect(out.tasks['task01']!.setup_step.log_phase).toBe('finished');
    expect(out.tasks['task01']!.steps[0]!.log_phase).toBe('finished');
    expect(out.tasks['task01']!.workspace_archives_phase).toEqual(['finished']);
    // running and not started tasks are left alone
    expect(out.tasks['task03']).toEqual(run.tasks['task03']);
    expect(out.tasks['task04']).toEqual(run.tasks['task04']);
    expect(getTasksToRun(out, rc).map((t) => t.id)).toContain('task02');
    expect(finishFetchOfUnscheduledTasks(out, []).changed).toBe(false);
  });

  it('leaves a finished task alone while its executor task is scheduled', () => {
    const run = withStatuses(baseRun(), { task01: 'success' });
    const { run: out, changed } = finishFetchOfUnscheduledTasks(run, [{ id: 'task01' }]);
    expect(changed).toBe(false);
    expect(out.tasks['task01']!.setup_step.log_phase).toBe('notstarted');
  });
});

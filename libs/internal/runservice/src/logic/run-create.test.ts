import { is } from '@agola-ts/errors';
import type { Run, RunConfig, RunConfigTask, RunCreateRequest } from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import { RunserviceErrorCodes } from '../codes.js';
import {
  checkRestartAllowed,
  checkRunConfigTasks,
  computeLevels,
  newRun,
  newRunTask,
  recreateRun,
  restartDeniedReason,
  validateNewRunRequest,
} from './run-create.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const LATER = new Date('2026-01-03T00:00:00.000Z');

function task(
  id: string,
  parents: string[] = [],
  extra: Partial<RunConfigTask> = {},
): RunConfigTask {
  return {
    id,
    name: id,
    level: 0,
    depends: Object.fromEntries(
      parents.map((p) => [p, { task_id: p, conditions: ['on_success' as const] }]),
    ),
    runtime: {
      type: 'pod',
      containers: [{ image: 'image01', privileged: false, entrypoint: '', volumes: [] }],
    },
    environment: {},
    steps: [],
    ...extra,
  };
}

function tasksOf(...ts: RunConfigTask[]): Record<string, RunConfigTask> {
  return Object.fromEntries(ts.map((t) => [t.id, t]));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('checkRunConfigTasks', () => {
  it('accepts a valid graph', () => {
    expect(
      checkRunConfigTasks(
        tasksOf(task('task1'), task('task2', ['task1']), task('task3', ['task1'])),
      ),
    ).toEqual([]);
  });

  it('reports a two tasks cycle a -> b -> a for each task', () => {
    const tasks = tasksOf(task('task1', ['task2']), task('task2', ['task1']));
    expect(checkRunConfigTasks(tasks)).toEqual([
      'circular dependency between task "task1" and tasks "task2"',
      'circular dependency between task "task2" and tasks "task1"',
    ]);
  });

  it('reports a three tasks cycle a -> b -> c -> a', () => {
    const tasks = tasksOf(
      task('task1', ['task3']),
      task('task2', ['task1']),
      task('task3', ['task2']),
    );
    expect(checkRunConfigTasks(tasks)).toEqual([
      'circular dependency between task "task1" and tasks "task2"',
      'circular dependency between task "task2" and tasks "task3"',
      'circular dependency between task "task3" and tasks "task1"',
    ]);
  });

  it('reports only the tasks in the cycle a -> b -> c -> b', () => {
    const tasks = tasksOf(
      task('task1'),
      task('task2', ['task1', 'task3']),
      task('task3', ['task2']),
    );
    expect(checkRunConfigTasks(tasks)).toEqual([
      'circular dependency between task "task2" and tasks "task3"',
      'circular dependency between task "task3" and tasks "task2"',
    ]);
  });

  it('reports a task depending on itself', () => {
    expect(checkRunConfigTasks(tasksOf(task('task1', ['task1'])))).toEqual([
      'circular dependency between task "task1" and tasks "task1"',
    ]);
  });

  it('refuses a task and its parent both depending on the same task: a -> b -> c, a -> c', () => {
    const tasks = tasksOf(
      task('task1'),
      task('task2', ['task1']),
      task('task3', ['task2', 'task1']),
    );
    expect(checkRunConfigTasks(tasks)).toEqual([
      'task "task3" and its parent "task2" have both a dependency on task "task1"',
    ]);
  });

  it('refuses a deeper common dependency: a -> b -> c -> d, a -> d', () => {
    const tasks = tasksOf(
      task('task1'),
      task('task2', ['task1']),
      task('task3', ['task2']),
      task('task4', ['task3', 'task1']),
    );
    expect(checkRunConfigTasks(tasks)).toEqual([
      'task "task4" and its parent "task3" have both a dependency on task "task1"',
    ]);
  });

  it('refuses a depend on a task that is not in the run, and a task stored under another key', () => {
    expect(checkRunConfigTasks(tasksOf(task('task1', ['ghost'])))).toEqual([
      'task "task1" depends on unknown task "ghost"',
    ]);
    expect(checkRunConfigTasks({ k: task('task1') })).toEqual([
      'task key "k" differs from its id "task1"',
    ]);
  });

  it('keeps a task named __proto__ as a plain task', () => {
    // as a request body arrives: "__proto__" is an own key after JSON.parse
    const body = `{"__proto__":${JSON.stringify(task('__proto__'))},"b":${JSON.stringify(task('b', ['x']))}}`;
    const tasks = JSON.parse(
      body.replace('"x":{"task_id":"x"', '"__proto__":{"task_id":"__proto__"'),
    ) as Record<string, RunConfigTask>;
    expect(Object.hasOwn(tasks, '__proto__')).toBe(true);
    expect(checkRunConfigTasks(tasks)).toEqual([]);
    const { run, runConfig } = newRun(
      { name: 'r', group: '/project/p1/branch/main', run_config_tasks: tasks },
      { id: 'r1', now: NOW },
    );
    expect(Object.keys(run.tasks).sort()).toEqual(['__proto__', 'b']);
    expect(Object.hasOwn(run.tasks, '__proto__')).toBe(true);
    expect(runConfig.tasks['b']!.level).toBe(1);
  });

  it('handles prototype names as plain ids', () => {
    const tasks = tasksOf(task('constructor', ['toString']));
    expect(checkRunConfigTasks(tasks)).toEqual([
      'task "constructor" depends on unknown task "toString"',
    ]);
  });
});

describe('long task chains', () => {
  function chain(n: number): Record<string, RunConfigTask> {
    return tasksOf(
      ...Array.from({ length: n }, (_, i) => task(`c${i}`, i > 0 ? [`c${i - 1}`] : [])),
    );
  }

  it('checks and levels a chain of 5000 tasks without deep recursion', () => {
    const tasks = chain(5000);
    expect(checkRunConfigTasks(tasks)).toEqual([]);
    const { levels, error } = computeLevels(tasks);
    expect(error).toBeUndefined();
    expect(levels.get('c4999')).toBe(4999);
  });

  it('reports every task of a 5000 tasks cycle', () => {
    const tasks = chain(5000);
    tasks['c0']!.depends['c4999'] = { task_id: 'c4999', conditions: ['on_success'] };
    const errors = checkRunConfigTasks(tasks);
    expect(errors).toHaveLength(5000);
    expect(errors).toContain('circular dependency between task "c4999" and tasks "c0"');
    expect(computeLevels(tasks).error).toBe('circular dependency detected');
  });
});

describe('computeLevels', () => {
  it('gives 0 to roots and 1 + the highest parent level to the others', () => {
    // a -> (b, c) -> (d, e); e also depends on a deeper chain
    const tasks = tasksOf(
      task('a'),
      task('b', ['a']),
      task('c', ['a']),
      task('d', ['b']),
      task('x'),
      task('y', ['x']),
      task('z', ['y']),
      task('e', ['c', 'z']),
    );
    expect(Object.fromEntries(computeLevels(tasks).levels)).toEqual({
      a: 0,
      x: 0,
      b: 1,
      c: 1,
      y: 1,
      d: 2,
      z: 2,
      e: 3,
    });
    expect(computeLevels(tasks).error).toBeUndefined();
  });

  it('detects cycles', () => {
    const tasks = tasksOf(task('task1', ['task2']), task('task2', ['task1']), task('task3'));
    const res = computeLevels(tasks);
    expect(res.error).toBe('circular dependency detected');
    expect(Object.fromEntries(res.levels)).toEqual({ task3: 0 });
  });
});

describe('newRun', () => {
  const req = (extra: Partial<RunCreateRequest> = {}): RunCreateRequest => ({
    name: 'build',
    group: '/project/p1/branch/main',
    run_config_tasks: tasksOf(
      task('t1', [], {
        steps: [
          { type: 'run', command: 'make' },
          { type: 'save_to_workspace', contents: [] },
          { type: 'restore_cache', keys: ['k'] },
          { type: 'save_to_workspace', contents: [] },
        ],
      }),
      task('t2', ['t1'], { skip: true }),
    ),
    static_environment: { S: '1' },
    environment: { E: '2' },
    annotations: { a: 'b' },
    cache_group: 'cg',
    ...extra,
  });

  it('builds a queued run with a task per config task, and the run config', () => {
    const { run, runConfig } = newRun(req(), { id: 'r1', now: NOW });
    expect(run).toEqual({
      id: 'r1',
      name: 'build',
      counter: 0,
      group: '/project/p1/branch/main',
      annotations: { a: 'b' },
      phase: 'queued',
      result: 'unknown',
      enqueue_time: '2026-01-02T03:04:05.000Z',
      tasks: {
        t1: {
          id: 't1',
          status: 'notstarted',
          setup_step: { phase: 'notstarted', log_phase: 'notstarted', exit_status: null },
          steps: Array.from({ length: 4 }, () => ({
            phase: 'notstarted',
            log_phase: 'notstarted',
            exit_status: null,
          })),
          workspace_archives: [1, 3],
          workspace_archives_phase: ['notstarted', 'notstarted'],
        },
        t2: {
          id: 't2',
          status: 'skipped',
          skip: true,
          setup_step: { phase: 'notstarted', log_phase: 'notstarted', exit_status: null },
          steps: [],
          workspace_archives: [],
          workspace_archives_phase: [],
        },
      },
    });
    expect(runConfig).toMatchObject({
      id: 'r1',
      name: 'build',
      group: '/project/p1/branch/main',
      setup_errors: [],
      static_environment: { S: '1' },
      environment: { E: '2' },
      annotations: { a: 'b' },
      cache_group: 'cg',
    });
    expect(runConfig.tasks['t1']!.level).toBe(0);
    expect(runConfig.tasks['t2']!.level).toBe(1);
    // a run step without tty gets Agola's default
    expect(runConfig.tasks['t1']!.steps).toEqual([
      { type: 'run', command: 'make', tty: true },
      { type: 'save_to_workspace', contents: [] },
      { type: 'restore_cache', keys: ['k'] },
      { type: 'save_to_workspace', contents: [] },
    ]);
  });

  it('keeps an explicit tty false', () => {
    const r = req({
      run_config_tasks: tasksOf(task('t1', [], { steps: [{ type: 'run', tty: false }] })),
    });
    expect(newRun(r, { id: 'r1', now: NOW }).runConfig.tasks['t1']!.steps).toEqual([
      { type: 'run', tty: false },
    ]);
  });

  it('does not change the request', () => {
    const r = req();
    const copy = structuredClone(r);
    newRun(r, { id: 'r1', now: NOW });
    expect(r).toEqual(copy);
  });

  it('turns graph violations into one setup error, with no tasks', () => {
    const { run, runConfig } = newRun(
      req({
        run_config_tasks: tasksOf(task('a', ['b']), task('b', ['a'])),
        setup_errors: ['bad config'],
      }),
      { id: 'r2', now: NOW },
    );
    expect(run.phase).toBe('setuperror');
    expect(run.result).toBe('unknown');
    expect(run.tasks).toEqual({});
    expect(runConfig.setup_errors).toEqual([
      'bad config',
      'circular dependency between task "a" and tasks "b", circular dependency between task "b" and tasks "a"',
    ]);
  });

  it('creates a setuperror run from setup errors only', () => {
    const { run, runConfig } = newRun(
      { name: 'Setup Error', group: '/project/p1/branch/main', setup_errors: ['yaml: line 3'] },
      { id: 'r3', now: NOW },
    );
    expect(run.phase).toBe('setuperror');
    expect(runConfig.setup_errors).toEqual(['yaml: line 3']);
    expect(runConfig.tasks).toEqual({});
  });

  it('refuses bad groups and empty requests with 400s', () => {
    const bad: [Partial<RunCreateRequest>, string][] = [
      [{ group: '' }, 'run group is empty'],
      [{ group: 'project/p1' }, 'run group "project/p1" must be an absolute path'],
      [{ group: '/project' }, 'run group "/project" must have a type and an id'],
      [{ run_config_tasks: null, setup_errors: [] }, 'empty run config tasks and setup errors'],
    ];
    for (const [extra, message] of bad) {
      expect(() => validateNewRunRequest(req(extra))).toThrow(message);
      expect(codeOf(() => newRun(req(extra), { id: 'x', now: NOW }))).toBe(
        RunserviceErrorCodes.InvalidRequest,
      );
    }
  });
});

describe('restart rules', () => {
  const finished = (extra: Partial<Run>): Run => ({
    ...newRun(
      { name: 'r', group: '/project/p1/branch/main', run_config_tasks: tasksOf(task('t1')) },
      { id: 'r1', now: NOW },
    ).run,
    ...extra,
  });

  it('never restarts a setuperror or unfinished run', () => {
    for (const fromStart of [true, false]) {
      expect(restartDeniedReason(finished({ phase: 'setuperror' }), fromStart)).toBe(
        'run has setup errors',
      );
      expect(restartDeniedReason(finished({ phase: 'running' }), fromStart)).toBe(
        'run is not finished, phase: "running"',
      );
    }
    const err = (() => {
      try {
        checkRestartAllowed(finished({ phase: 'queued' }), { fromStart: true });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toBe('run cannot be restarted: run is not finished, phase: "queued"');
    expect(is(err, RunserviceErrorCodes.InvalidState)).toBe(true);
  });

  it('restarts from failed tasks only without success and with successful tasks fully fetched', () => {
    const success = finished({ phase: 'finished', result: 'success' });
    expect(restartDeniedReason(success, true)).toBeUndefined();
    expect(restartDeniedReason(success, false)).toBe(
      'run "r1" has success result, cannot restart from failed tasks',
    );

    const failed = finished({ phase: 'finished', result: 'failed' });
    failed.tasks['t1']!.status = 'success';
    expect(restartDeniedReason(failed, false)).toBe('run "r1" task "t1" not fully archived');
    failed.tasks['t1']!.setup_step.log_phase = 'finished';
    expect(restartDeniedReason(failed, false)).toBeUndefined();
    expect(() => checkRestartAllowed(failed, { fromStart: false })).not.toThrow();
    expect(
      restartDeniedReason(finished({ phase: 'cancelled', result: 'unknown' }), false),
    ).toBeUndefined();
  });
});

describe('recreateRun (Agola action table)', () => {
  // task01 -> task02; task03, task04 -> task05
  function old(): { run: Run; runConfig: RunConfig } {
    const b = newRun(
      {
        name: 'r',
        group: '/project/p1/branch/main',
        environment: { OLD: '1' },
        static_environment: { S: '1' },
        run_config_tasks: tasksOf(
          task('task01', [], { steps: [{ type: 'save_to_workspace', contents: [] }] }),
          task('task02', ['task01']),
          task('task03'),
          task('task04'),
          task('task05', ['task03', 'task04']),
        ),
      },
      { id: 'in-old', now: NOW },
    );
    b.run.phase = 'finished';
    b.run.result = 'failed';
    b.run.start_time = NOW.toISOString();
    b.run.end_time = NOW.toISOString();
    b.run.stop = true;
    b.run.archived = true;
    b.run.counter = 7;
    return b;
  }
  const opts = { id: 'out-new', now: LATER, newTaskId: (name: string) => `out-${name}` };
  const fresh = (id: string, rct: RunConfigTask) => newRunTask({ ...rct, id });

  it('recreates every task from start, with new ids and rewired depends', () => {
    const o = old();
    o.run.tasks['task01']!.status = 'failed';
    for (const id of ['task02', 'task03', 'task04', 'task05']) o.run.tasks[id]!.status = 'success';
    const before = structuredClone(o);
    const { run, runConfig } = recreateRun(
      o,
      { run_id: 'in-old', from_start: true, environment: { NEW: '2' } },
      opts,
    );
    expect(o).toEqual(before);

    expect(Object.keys(runConfig.tasks).sort()).toEqual([
      'out-task01',
      'out-task02',
      'out-task03',
      'out-task04',
      'out-task05',
    ]);
    expect(runConfig.tasks['out-task05']!.depends).toEqual({
      'out-task03': { task_id: 'out-task03', conditions: ['on_success'] },
      'out-task04': { task_id: 'out-task04', conditions: ['on_success'] },
    });
    expect(runConfig.tasks['out-task02']!.depends).toEqual({
      'out-task01': { task_id: 'out-task01', conditions: ['on_success'] },
    });
    expect(runConfig.id).toBe('out-new');
    expect(runConfig.environment).toEqual({ NEW: '2' });
    expect(runConfig.static_environment).toEqual({ S: '1' });

    expect(run).toEqual({
      id: 'out-new',
      name: 'r',
      counter: 7,
      group: '/project/p1/branch/main',
      annotations: {},
      phase: 'queued',
      result: 'unknown',
      enqueue_time: LATER.toISOString(),
      tasks: Object.fromEntries(Object.values(runConfig.tasks).map((t) => [t.id, fresh(t.id, t)])),
    });
  });

  it('from start with all tasks not started recreates them all', () => {
    const { run } = recreateRun(old(), { run_id: 'in-old', from_start: true }, opts);
    expect(Object.keys(run.tasks).every((id) => id.startsWith('out-'))).toBe(true);
    expect(Object.values(run.tasks).every((t) => t.status === 'notstarted')).toBe(true);
  });

  it('from failed tasks with all tasks not started recreates them all', () => {
    const { run } = recreateRun(old(), { run_id: 'in-old', from_start: false }, opts);
    expect(Object.keys(run.tasks).sort()).toEqual([
      'out-task01',
      'out-task02',
      'out-task03',
      'out-task04',
      'out-task05',
    ]);
  });

  it('from failed tasks recreates the failed task01 and its successful child task02 only', () => {
    const o = old();
    o.run.tasks['task01']!.status = 'failed';
    for (const id of ['task02', 'task03', 'task04', 'task05']) o.run.tasks[id]!.status = 'success';
    o.run.tasks['task03']!.annotations = { kept: 'yes' };
    const { run, runConfig } = recreateRun(o, { run_id: 'in-old', from_start: false }, opts);

    expect(Object.keys(runConfig.tasks).sort()).toEqual([
      'out-task01',
      'out-task02',
      'task03',
      'task04',
      'task05',
    ]);
    expect(runConfig.tasks['out-task02']!.depends).toEqual({
      'out-task01': { task_id: 'out-task01', conditions: ['on_success'] },
    });
    expect(runConfig.tasks['task05']).toEqual(o.runConfig.tasks['task05']);

    expect(run.tasks['out-task01']).toEqual(fresh('out-task01', runConfig.tasks['out-task01']!));
    expect(run.tasks['out-task02']).toEqual(fresh('out-task02', runConfig.tasks['out-task02']!));
    // kept tasks carry their state over
    expect(run.tasks['task03']).toEqual(o.run.tasks['task03']);
    expect(run.tasks['task05']!.status).toBe('success');
    expect(run.tasks['task03']!.annotations).toEqual({ kept: 'yes' });
  });

  it('keeps a successful parent and its archives; only the failed child and its descendants are new', () => {
    const o = old();
    // task06 depends on task02
    o.runConfig.tasks['task06'] = task('task06', ['task02'], { level: 2 });
    o.run.tasks['task06'] = newRunTask(o.runConfig.tasks['task06']);
    o.run.tasks['task06'].status = 'skipped';
    o.run.tasks['task01']!.status = 'success';
    o.run.tasks['task01']!.workspace_archives_phase = ['finished'];
    o.run.tasks['task02']!.status = 'failed';
    for (const id of ['task03', 'task04', 'task05']) o.run.tasks[id]!.status = 'success';
    const { run, runConfig } = recreateRun(o, { run_id: 'in-old' }, opts);

    expect(Object.keys(run.tasks).sort()).toEqual([
      'out-task02',
      'out-task06',
      'task01',
      'task03',
      'task04',
      'task05',
    ]);
    expect(run.tasks['task01']!.workspace_archives_phase).toEqual(['finished']);
    expect(runConfig.tasks['out-task02']!.depends).toEqual({
      task01: { task_id: 'task01', conditions: ['on_success'] },
    });
    expect(runConfig.tasks['out-task06']!.depends).toEqual({
      'out-task02': { task_id: 'out-task02', conditions: ['on_success'] },
    });
    expect(run.tasks['out-task06']!.status).toBe('notstarted');
  });

  it('asks a new id once per re-run task, by level then name', () => {
    const o = old();
    const asked: string[] = [];
    recreateRun(
      o,
      { run_id: 'in-old', from_start: true },
      { ...opts, newTaskId: (n) => (asked.push(n), `n-${n}`) },
    );
    expect(asked).toEqual(['task01', 'task03', 'task04', 'task02', 'task05']);
  });
});

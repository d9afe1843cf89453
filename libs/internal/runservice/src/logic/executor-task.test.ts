import type {
  Executor,
  ExecutorTask,
  Run,
  RunConfig,
  RunConfigTask,
  RunTask,
} from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import {
  cachePrefixOf,
  genExecutorTask,
  genExecutorTaskSpecData,
  isExecutorPhaseAllowed,
  updateRunTaskStatus,
} from './executor-task.js';
import { newRun } from './run-create.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function task(name: string, parents: string[], steps: RunConfigTask['steps'] = []): RunConfigTask {
  return {
    id: name,
    name,
    level: 0,
    depends: Object.fromEntries(
      parents.map((p) => [p, { task_id: p, conditions: ['on_success' as const] }]),
    ),
    runtime: {
      type: 'pod',
      arch: 'arm64',
      containers: [{ image: 'golang', privileged: true, entrypoint: '', volumes: [] }],
    },
    environment: { A: 'task', B: 'task', C: 'task' },
    working_dir: '/w',
    shell: '/bin/bash',
    user: 'u',
    steps,
    docker_registries_auth: { 'r.io': { type: 'basic', username: 'x', password: 'y', auth: '' } },
  };
}

const save = {
  type: 'save_to_workspace' as const,
  contents: [{ source_dir: '.', dest_dir: '.', paths: ['**'] }],
};
const runStep = { type: 'run' as const, name: 'make', command: 'make' };

// z (level 0) and a (level 0) → m (level 1) → leaf (level 2); b (level 1, from a) → leaf
function bundle(): { run: Run; runConfig: RunConfig } {
  return newRun(
    {
      name: 'r',
      group: '/project/p1/branch/main',
      static_environment: { B: 'static', C: 'static' },
      environment: { C: 'run' },
      run_config_tasks: {
        z: task('z', [], [save, runStep, save]),
        a: task('a', [], [runStep, save]),
        m: task('m', ['z', 'a'], [save]),
        b: task('b', ['a'], [runStep]),
        leaf: task('leaf', ['m', 'b'], [runStep, runStep]),
      },
    },
    { id: 'run1', now: NOW },
  );
}

const executor: Executor = {
  id: 'e1',
  listenURL: 'http://e1',
  last_status_update_time: NOW.toISOString(),
};

describe('genExecutorTaskSpecData', () => {
  it('overlays the environment, keeps the task fields and orders workspace operations', () => {
    const { run, runConfig } = bundle();
    const data = genExecutorTaskSpecData(run, run.tasks['leaf']!, runConfig);
    expect(data).toEqual({
      task_name: 'leaf',
      arch: 'arm64',
      containers: [{ image: 'golang', privileged: true, entrypoint: '', volumes: [] }],
      environment: { A: 'task', B: 'static', C: 'run' },
      working_dir: '/w',
      shell: '/bin/bash',
      user: 'u',
      privileged: false,
      workspace_operations: [
        { task_id: 'a', step: 1 },
        { task_id: 'z', step: 0 },
        { task_id: 'z', step: 2 },
        { task_id: 'm', step: 0 },
      ],
      docker_registries_auth: { 'r.io': { type: 'basic', username: 'x', password: 'y', auth: '' } },
      cache_prefix: 'p1',
      steps: [
        { ...runStep, tty: true },
        { ...runStep, tty: true },
      ],
    });
    // the run config is not changed by the overlay
    expect(runConfig.tasks['leaf']!.environment).toEqual({ A: 'task', B: 'task', C: 'task' });
  });

  it('has no workspace operations for a root task', () => {
    const { run, runConfig } = bundle();
    expect(genExecutorTaskSpecData(run, run.tasks['z']!, runConfig).workspace_operations).toEqual(
      [],
    );
  });

  it('uses the cache group as cache prefix when set', () => {
    const { run, runConfig } = bundle();
    expect(cachePrefixOf(run, runConfig)).toBe('p1');
    runConfig.cache_group = 'shared';
    expect(genExecutorTaskSpecData(run, run.tasks['z']!, runConfig).cache_prefix).toBe('shared');
    expect(
      cachePrefixOf({ ...run, group: '/user/u9/branch/x' }, { ...runConfig, cache_group: '' }),
    ).toBe('u9');
  });

  it('sends null registry auth and no arch when the task has none', () => {
    const { run, runConfig } = bundle();
    delete runConfig.tasks['z']!.docker_registries_auth;
    delete runConfig.tasks['z']!.runtime!.arch;
    const data = genExecutorTaskSpecData(run, run.tasks['z']!, runConfig);
    expect(data.docker_registries_auth).toBeNull();
    expect('arch' in data).toBe(false);
  });
});

describe('genExecutorTask', () => {
  it('is keyed by the run task id, without spec data, with one step status per step', () => {
    const { run, runConfig } = bundle();
    expect(genExecutorTask(run, run.tasks['z']!, runConfig, executor)).toEqual({
      id: 'z',
      spec: { executor_id: 'e1', run_id: 'run1' },
      status: {
        phase: 'notstarted',
        setup_step: { phase: 'notstarted' },
        steps: [{ phase: 'notstarted' }, { phase: 'notstarted' }, { phase: 'notstarted' }],
      },
    });
  });
});

describe('updateRunTaskStatus', () => {
  const PHASES = ['notstarted', 'cancelled', 'running', 'stopped', 'success', 'failed'] as const;
  const STATUSES = [
    'notstarted',
    'skipped',
    'cancelled',
    'running',
    'stopped',
    'success',
    'failed',
  ] as const;
  // Agola's table: executor phase → run task statuses it may be applied to
  const ALLOWED: Record<(typeof PHASES)[number], string[]> = {
    notstarted: ['notstarted'],
    cancelled: ['cancelled', 'notstarted'],
    running: ['running', 'notstarted'],
    stopped: ['stopped', 'notstarted', 'running'],
    success: ['success', 'notstarted', 'running'],
    failed: ['failed', 'notstarted', 'running'],
  };

  function et(phase: (typeof PHASES)[number]): ExecutorTask {
    return {
      id: 'leaf',
      spec: { executor_id: 'e1', run_id: 'run1' },
      status: {
        phase,
        setup_step: {
          phase: 'success',
          start_time: '2026-01-02T03:04:06.000Z',
          end_time: '2026-01-02T03:04:07.000Z',
        },
        steps: [
          {
            phase: 'success',
            exit_status: 0,
            start_time: '2026-01-02T03:04:07.000Z',
            end_time: '2026-01-02T03:04:08.000Z',
          },
          { phase, exit_status: 2, start_time: '2026-01-02T03:04:08.000Z' },
        ],
        start_time: '2026-01-02T03:04:06.000Z',
      },
    };
  }

  it('applies exactly the allowed phase → status pairs', () => {
    for (const phase of PHASES) {
      for (const status of STATUSES) {
        const { run } = bundle();
        run.tasks['leaf']!.status = status;
        const before = structuredClone(run.tasks['leaf']!);
        const applied = updateRunTaskStatus(run, et(phase));
        const allowed = ALLOWED[phase].includes(status);
        expect({ phase, status, applied }).toEqual({ phase, status, applied: allowed });
        expect(isExecutorPhaseAllowed(phase, status)).toBe(allowed);
        if (allowed) expect(run.tasks['leaf']!.status).toBe(phase);
        else expect(run.tasks['leaf']).toEqual(before);
      }
    }
  });

  it('copies the setup step, step phases, exit codes and times', () => {
    const { run } = bundle();
    run.tasks['leaf']!.end_time = 'stale';
    expect(updateRunTaskStatus(run, et('failed'))).toBe(true);
    const expected: RunTask = {
      id: 'leaf',
      status: 'failed',
      start_time: '2026-01-02T03:04:06.000Z',
      setup_step: {
        phase: 'success',
        log_phase: 'notstarted',
        exit_status: null,
        start_time: '2026-01-02T03:04:06.000Z',
        end_time: '2026-01-02T03:04:07.000Z',
      },
      steps: [
        {
          phase: 'success',
          log_phase: 'notstarted',
          exit_status: 0,
          start_time: '2026-01-02T03:04:07.000Z',
          end_time: '2026-01-02T03:04:08.000Z',
        },
        {
          phase: 'failed',
          log_phase: 'notstarted',
          exit_status: 2,
          start_time: '2026-01-02T03:04:08.000Z',
        },
      ],
      workspace_archives: [],
      workspace_archives_phase: [],
    };
    expect(run.tasks['leaf']).toEqual(expected);
  });

  it('ignores step statuses beyond the task steps', () => {
    const { run } = bundle();
    const e = et('running');
    e.status.steps.push({ phase: 'running' });
    expect(updateRunTaskStatus(run, e)).toBe(true);
    expect(run.tasks['leaf']!.steps).toHaveLength(2);
  });

  it('throws for an executor task of an unknown run task', () => {
    const { run } = bundle();
    expect(() => updateRunTaskStatus(run, { ...et('running'), id: 'nope' })).toThrow(
      'no such run task with id nope for run run1',
    );
  });
});

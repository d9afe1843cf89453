/**
 * Drives random runs to their end with the pure functions only, as the service does (status
 * updates, advanceRun, advanceRunTasks, getTasksToRun, chooseExecutor, genExecutorTask), with a
 * simulated executor and fetcher, and checks the invariants of Agola's state machines.
 */
import type {
  Executor,
  ExecutorTask,
  Run,
  RunConfig,
  RunConfigTask,
  RunConfigTaskDependCondition,
} from '@agola-ts/types';
import { isRunTaskStatusFinished } from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import {
  advanceRun,
  advanceRunTasks,
  finishFetchOfUnscheduledTasks,
  getTasksToRun,
  settleRunTasks,
} from './advance.js';
import { genExecutorTask, updateRunTaskStatus } from './executor-task.js';
import { chooseExecutor } from './executors.js';
import { checkRunConfigTasks, newRun } from './run-create.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONDITIONS: RunConfigTaskDependCondition[] = ['on_success', 'on_failure', 'on_skipped'];
const NOW = new Date('2026-01-02T03:04:05.000Z');

interface Scenario {
  runConfig: RunConfig;
  run: Run;
  /** What each task does once it runs. */
  outcome: Map<string, 'success' | 'failed'>;
  /** Pass at which the run is stopped, if any. */
  stopAt: number | undefined;
}

function scenario(seed: number): Scenario | undefined {
  const rnd = mulberry32(seed);
  const n = 2 + Math.floor(rnd() * 7);
  const tasks: Record<string, RunConfigTask> = {};
  const outcome = new Map<string, 'success' | 'failed'>();
  for (let i = 0; i < n; i++) {
    const id = `t${i}`;
    const depends: RunConfigTask['depends'] = {};
    for (let j = 0; j < i; j++) {
      if (rnd() < 0.35) {
        const conditions = CONDITIONS.filter(() => rnd() < 0.5);
        depends[`t${j}`] = {
          task_id: `t${j}`,
          conditions: conditions.length > 0 ? conditions : ['on_success'],
        };
      }
    }
    tasks[id] = {
      id,
      name: id,
      level: 0,
      depends,
      runtime: {
        type: 'pod',
        containers: [{ image: 'i', privileged: false, entrypoint: '', volumes: [] }],
      },
      steps: [
        { type: 'run', command: 'x' },
        ...(rnd() < 0.5 ? [{ type: 'save_to_workspace' as const, contents: [] }] : []),
      ],
      ignore_failure: rnd() < 0.2,
      needs_approval: rnd() < 0.15,
      skip: rnd() < 0.1,
    };
    outcome.set(id, rnd() < 0.3 ? 'failed' : 'success');
  }
  if (checkRunConfigTasks(tasks).length > 0) return undefined;
  const { run, runConfig } = newRun(
    { name: 'sim', group: '/project/p/branch/b', run_config_tasks: tasks },
    { id: `run${seed}`, now: NOW },
  );
  run.phase = 'running';
  const stopAt = rnd() < 0.25 ? Math.floor(rnd() * 6) : undefined;
  return { run, runConfig, outcome, stopAt };
}

const executors: Executor[] = [
  {
    id: 'e1',
    listenURL: 'http://e1',
    active_tasks_limit: 1,
    last_status_update_time: NOW.toISOString(),
  },
  {
    id: 'e2',
    listenURL: 'http://e2',
    active_tasks_limit: 2,
    last_status_update_time: NOW.toISOString(),
  },
];

interface Trace {
  run: Run;
  passes: number;
  sent: string[];
  /** Tasks needing approval sent before they were approved (must stay empty). */
  sentUnapproved: string[];
  maxPerExecutor: Map<string, number>;
}

/** advanceRunTasks repeated until nothing moves. */
function fixedPoint(run: Run, rc: RunConfig, scheduled: readonly ExecutorTask[]): Run {
  let cur = run;
  for (let i = 0; i <= Object.keys(run.tasks).length; i++) {
    const next = advanceRunTasks(cur, rc, scheduled);
    if (JSON.stringify(next) === JSON.stringify(cur)) return next;
    cur = next;
  }
  throw new Error('advanceRunTasks does not settle');
}

function simulate(s: Scenario, settle: boolean, mismatches: string[] = []): Trace {
  let run = s.run;
  const rc = s.runConfig;
  const ets = new Map<string, ExecutorTask>();
  const sent: string[] = [];
  const sentUnapproved: string[] = [];
  const maxPerExecutor = new Map<string, number>();
  let passes = 0;
  for (; passes < 200 && run.phase === 'running'; passes++) {
    if (passes === s.stopAt) {
      run.stop = true;
      for (const rt of Object.values(run.tasks)) rt.waiting_approval = false;
    }
    // a stopped run's executor tasks are told to stop
    if (run.stop === true) for (const et of ets.values()) et.spec.stop = true;
    // executor: start, then finish (or stop) the tasks it holds
    for (const et of ets.values()) {
      const steps = et.status.steps;
      if (et.status.phase === 'notstarted') {
        et.status.phase = et.spec.stop === true ? 'cancelled' : 'running';
        et.status.setup_step.phase = 'success';
      } else if (et.status.phase === 'running') {
        et.status.phase = et.spec.stop === true ? 'stopped' : s.outcome.get(et.id)!;
        steps.forEach((st) => {
          st.phase = et.status.phase;
          st.exit_status = et.status.phase === 'success' ? 0 : 1;
        });
      }
    }
    // runservice: apply statuses; fetcher: fetch finished tasks and drop their executor tasks
    for (const et of ets.values()) updateRunTaskStatus(run, et);
    for (const et of [...ets.values()]) {
      const rt = run.tasks[et.id]!;
      if (!isRunTaskStatusFinished(rt.status)) continue;
      rt.setup_step.log_phase = 'finished';
      for (const st of rt.steps) st.log_phase = 'finished';
      rt.workspace_archives_phase = rt.workspace_archives_phase.map(() => 'finished');
      ets.delete(et.id);
    }
    run = finishFetchOfUnscheduledTasks(run, [...ets.values()]).run;
    // approvers approve waiting tasks
    for (const rt of Object.values(run.tasks)) {
      if (rt.waiting_approval === true) {
        rt.waiting_approval = false;
        rt.approved = true;
      }
    }
    const scheduled = [...ets.values()];
    run = advanceRun(run, { runConfig: rc, scheduledExecutorTasks: scheduled, now: NOW }).run;
    if (run.phase !== 'running') break;
    const settled = settleRunTasks(run, rc, scheduled);
    if (JSON.stringify(settled) !== JSON.stringify(fixedPoint(run, rc, scheduled))) {
      mismatches.push(`${run.id} pass ${passes}`);
    }
    run = settle ? settled : advanceRunTasks(run, rc, scheduled);
    for (const rt of getTasksToRun(run, rc)) {
      if (ets.has(rt.id)) continue;
      const counts = new Map<string, number>();
      for (const et of ets.values()) {
        counts.set(et.spec.executor_id, (counts.get(et.spec.executor_id) ?? 0) + 1);
      }
      const e = chooseExecutor(executors, {
        runConfigTask: rc.tasks[rt.id]!,
        executorTaskCounts: counts,
        now: NOW,
      });
      if (e === undefined) break;
      ets.set(rt.id, genExecutorTask(run, rt, rc, e));
      sent.push(rt.id);
      if (rc.tasks[rt.id]!.needs_approval === true && rt.approved !== true)
        sentUnapproved.push(rt.id);
      counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
      maxPerExecutor.set(e.id, Math.max(maxPerExecutor.get(e.id) ?? 0, counts.get(e.id)!));
    }
  }
  return { run, passes, sent, sentUnapproved, maxPerExecutor };
}

function matches(cond: RunConfigTaskDependCondition, status: string): boolean {
  return (
    (cond === 'on_success' && status === 'success') ||
    (cond === 'on_failure' && status === 'failed') ||
    (cond === 'on_skipped' && status === 'skipped')
  );
}

/** The invariants of Agola's state machines on a finished simulated run. */
function checkInvariants(seed: number, s: Scenario, trace: Trace): void {
  const { run, passes, sent, sentUnapproved, maxPerExecutor } = trace;
  const ctx = { seed, passes };

  expect({ ...ctx, phase: run.phase }).toEqual({ ...ctx, phase: 'finished' });
  expect(new Set(sent).size).toBe(sent.length);
  expect({ ...ctx, sentUnapproved }).toEqual({ ...ctx, sentUnapproved: [] });
  expect(maxPerExecutor.get('e1') ?? 0).toBeLessThanOrEqual(1);
  expect(maxPerExecutor.get('e2') ?? 0).toBeLessThanOrEqual(2);

  const tasks = s.runConfig.tasks;
  for (const rt of Object.values(run.tasks)) {
    expect({ ...ctx, task: rt.id, finished: isRunTaskStatusFinished(rt.status) }).toEqual({
      ...ctx,
      task: rt.id,
      finished: true,
    });
    const rct = tasks[rt.id]!;
    const parentsMatch = Object.entries(rct.depends).every(([pid, d]) =>
      (d.conditions ?? []).some((c) => matches(c, run.tasks[pid]!.status)),
    );
    if (rt.status === 'success' || rt.status === 'failed') {
      // ran: not skipped by config, every parent matched, approved when needed
      expect({ ...ctx, task: rt.id, parentsMatch, skip: rct.skip === true }).toEqual({
        ...ctx,
        task: rt.id,
        parentsMatch: true,
        skip: false,
      });
      if (rct.needs_approval === true) expect(rt.approved).toBe(true);
      expect(sent).toContain(rt.id);
    } else {
      expect(sent.includes(rt.id) ? rt.status : 'not sent').toMatch(
        /^(not sent|stopped|cancelled)$/,
      );
    }
    if (rt.status === 'skipped' && rct.skip !== true && run.stop !== true) {
      expect({ ...ctx, task: rt.id, parentsMatch }).toEqual({
        ...ctx,
        task: rt.id,
        parentsMatch: false,
      });
    }
  }

  const failed = Object.values(run.tasks).some(
    (rt) => rt.status === 'failed' && tasks[rt.id]!.ignore_failure !== true,
  );
  if (failed) expect(run.result).toBe('failed');
  else if (run.stop === true) expect(['stopped', 'success']).toContain(run.result);
  else expect(run.result).toBe('success');
  expect(run.end_time).toBe(NOW.toISOString());
}

describe('random runs driven by the pure logic', () => {
  it('always finish, with every task run at most once and the rules of Agola', () => {
    let checked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const s = scenario(seed);
      if (s === undefined) continue;
      checked++;
      const mismatches: string[] = [];
      const trace = simulate(s, false, mismatches);
      // at every pass, settleRunTasks gives what repeating advanceRunTasks gives
      expect(mismatches).toEqual([]);
      checkInvariants(seed, s, trace);
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('also finish by the same rules with settleRunTasks, sooner when skips chain', () => {
    let fewer = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const a = scenario(seed);
      const b = scenario(seed);
      if (a === undefined || b === undefined) continue;
      const settled = simulate(b, true);
      checkInvariants(seed, b, settled);
      if (settled.passes < simulate(a, false).passes) fewer++;
    }
    expect(fewer).toBeGreaterThan(0);
  });
});

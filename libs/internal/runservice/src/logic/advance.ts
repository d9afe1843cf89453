/**
 * How a run moves (reference §7.2 and §7.5 steps 2, 5 and 6): the run's result and phase, the
 * tasks' readiness, skips, cancels and approvals. Pure: the run is never mutated in place.
 */
import { errorf } from '@agola-ts/errors';
import type { Run, RunConfig, RunConfigTask, RunTask } from '@agola-ts/types';
import { isRunPhaseFinished, isRunTaskStatusFinished } from '@agola-ts/types';
import { buildTaskGraph, getParents, taskById, topologicalOrder } from './graph.js';
import { archivesFetchFinished } from './run-create.js';

/** An executor task still in etcd for the run (only its id, the run task id, is used). */
export interface ScheduledTask {
  /** The run task id. */
  id: string;
}

/** What {@link advanceRun} needs besides the run. */
export interface AdvanceRunOptions {
  /** The run's config (for `ignore_failure`). */
  runConfig: RunConfig;
  /** The run's executor tasks still in etcd: while any exists the run cannot finish. */
  scheduledExecutorTasks: readonly ScheduledTask[];
  /** Time of the change: `end_time` when the run finishes. */
  now: Date;
}

/** What {@link advanceRun} returns. */
export interface AdvanceRunResult {
  /** The run with its new result and phase (a copy). */
  run: Run;
  /** Whether the phase or the result changed: a RunEvent must be emitted. */
  events: boolean;
}

function rcTask(runConfig: RunConfig, id: string): RunConfigTask {
  const rct = taskById(runConfig.tasks, id);
  if (rct === undefined) {
    throw errorf('no such run config task with id %s for run config %s', id, runConfig.id);
  }
  return rct;
}

function allTasksFinished(run: Run): boolean {
  return Object.values(run.tasks).every((rt) => isRunTaskStatusFinished(rt.status));
}

/**
 * Sets the run's result and phase; the only function that does (Agola's `advanceRun`):
 * 1. running, no result, a task `failed` without `ignore_failure` → result `failed`;
 * 2. else running, no result, every task finished → result `success`, and it returns at once
 *    (as Agola: the phase becomes `finished` on the next call);
 * 3. else running, no result, `stop` → result `stopped`;
 * 4. a result set, every task finished, no executor task scheduled and the phase not finished →
 *    phase `finished` (with `end_time`);
 * 5. once the phase is finished, every `notstarted` task's setup and step log phases and its
 *    archive phases are marked `finished` (there is nothing to fetch). Agola did this only with
 *    a result set, so a run cancelled while queued (result `unknown`) was never fully fetched
 *    and never archived; here it is done for every finished phase.
 *
 * @throws AgolaError when a run task has no run config task (a broken run).
 */
export function advanceRun(run: Run, options: AdvanceRunOptions): AdvanceRunResult {
  const r = structuredClone(run);
  const running = (): boolean => r.result === 'unknown' && r.phase === 'running';

  if (running()) {
    for (const rt of Object.values(r.tasks)) {
      const rct = rcTask(options.runConfig, rt.id);
      if (rt.status === 'failed' && rct.ignore_failure !== true) {
        r.result = 'failed';
        break;
      }
    }
  }

  if (running() && allTasksFinished(r)) {
    r.result = 'success';
    return { run: r, events: r.phase !== run.phase || r.result !== run.result };
  }

  if (running() && r.stop === true) r.result = 'stopped';

  if (r.result !== 'unknown') {
    if (
      allTasksFinished(r) &&
      !isRunPhaseFinished(r.phase) &&
      options.scheduledExecutorTasks.length === 0
    ) {
      r.phase = 'finished';
      r.end_time = options.now.toISOString();
    }
  }

  if (isRunPhaseFinished(r.phase)) {
    for (const rt of Object.values(r.tasks)) {
      if (rt.status !== 'notstarted') continue;
      rt.setup_step.log_phase = 'finished';
      for (const s of rt.steps) s.log_phase = 'finished';
      rt.workspace_archives_phase = rt.workspace_archives_phase.map(() => 'finished');
    }
  }

  return { run: r, events: r.phase !== run.phase || r.result !== run.result };
}

/** Whether every parent of the task matches one of the task's conditions on it. */
function matchesParentDependConditions(
  run: Run,
  runConfig: RunConfig,
  rct: RunConfigTask,
): boolean {
  for (const p of getParents(runConfig.tasks, rct)) {
    const rp = taskById(run.tasks, p.id);
    const depend = taskById(rct.depends ?? {}, p.id);
    const conditions = depend?.conditions ?? [];
    const matched = conditions.some(
      (c) =>
        (c === 'on_success' && rp?.status === 'success') ||
        (c === 'on_failure' && rp?.status === 'failed') ||
        (c === 'on_skipped' && rp?.status === 'skipped'),
    );
    if (!matched) return false;
  }
  return true;
}

/** Whether every parent of the task is finished and has all its archives fetched. */
function allParentsDone(run: Run, runConfig: RunConfig, rct: RunConfigTask): boolean {
  return getParents(runConfig.tasks, rct).every((p) => {
    const rp = taskById(run.tasks, p.id);
    return rp !== undefined && isRunTaskStatusFinished(rp.status) && archivesFetchFinished(rp);
  });
}

function moveTasks(
  run: Run,
  runConfig: RunConfig,
  scheduledExecutorTasks: readonly ScheduledTask[],
  settle: boolean,
): Run {
  const next = structuredClone(run);
  const scheduled = new Set(scheduledExecutorTasks.map((et) => et.id));

  if (next.stop === true) {
    for (const rt of Object.values(next.tasks)) {
      if (!scheduled.has(rt.id) && rt.status === 'notstarted') rt.status = 'skipped';
    }
  }

  for (const rt of Object.values(next.tasks)) {
    if (rt.skip === true || rt.status !== 'notstarted') continue;
    const rct = rcTask(runConfig, rt.id);
    if (getParents(runConfig.tasks, rct).length > 0) continue;
    if (run.result !== 'unknown' && !scheduled.has(rt.id)) rt.status = 'cancelled';
  }

  // settling visits parents first and reads the statuses decided in this call
  let ids = Object.keys(next.tasks);
  if (settle) {
    const order = topologicalOrder(buildTaskGraph(runConfig.tasks)).filter((id) =>
      Object.hasOwn(next.tasks, id),
    );
    const ordered = new Set(order);
    ids = [...order, ...ids.filter((id) => !ordered.has(id))];
  }
  const view = settle ? next : run;

  for (const id of ids) {
    const rt = taskById(next.tasks, id);
    if (rt === undefined || rt.skip === true || rt.status !== 'notstarted') continue;
    const rct = rcTask(runConfig, rt.id);
    if (!allParentsDone(view, runConfig, rct)) continue;
    if (!matchesParentDependConditions(view, runConfig, rct)) {
      rt.status = 'skipped';
      continue;
    }
    if (rct.needs_approval === true && rt.waiting_approval !== true && rt.approved !== true) {
      rt.waiting_approval = true;
    }
  }
  return next;
}

/**
 * Moves the tasks of a running run (Agola's `advanceRunTasks`), on a copy; every test reads the
 * run as it was given, so the outcome does not depend on the order tasks are visited:
 * - with `stop`, every `notstarted` task with no scheduled executor task → `skipped`;
 * - with a result set, every `notstarted` root task (not skipped) with no scheduled executor
 *   task → `cancelled`;
 * - every other `notstarted` task whose parents are all finished with their archives fetched:
 *   if each parent matches one of the task's conditions on it (`on_success` ↔ `success`,
 *   `on_failure` ↔ `failed`, `on_skipped` ↔ `skipped`; no condition never matches) it may run,
 *   and when it needs approval and is neither waiting nor approved it becomes
 *   `waiting_approval`; otherwise it becomes `skipped`.
 *
 * A decision moves one hop per call (a child of a task skipped in this call is decided on the
 * next one), as in Agola; {@link settleRunTasks} goes all the way in one call.
 *
 * @throws AgolaError when a run task has no run config task (a broken run).
 */
export function advanceRunTasks(
  run: Run,
  runConfig: RunConfig,
  scheduledExecutorTasks: readonly ScheduledTask[],
): Run {
  return moveTasks(run, runConfig, scheduledExecutorTasks, false);
}

/**
 * {@link advanceRunTasks} until nothing moves, in one call: tasks are visited parents first
 * and read the statuses decided before them, so a chain of skips settles at once. The result is
 * the state Agola reaches after as many scheduler passes (one per hop, 2 s apart), which push
 * dispatch needs without waiting for the loop. Linear in tasks and depends.
 *
 * @throws AgolaError when a run task has no run config task (a broken run).
 */
export function settleRunTasks(
  run: Run,
  runConfig: RunConfig,
  scheduledExecutorTasks: readonly ScheduledTask[],
): Run {
  return moveTasks(run, runConfig, scheduledExecutorTasks, true);
}

/**
 * The tasks to send to executors now (Agola's `getTasksToRun`): `notstarted`, not skipped,
 * every parent finished with its archives fetched and matching the task's depend conditions,
 * and approved when the task needs approval. Returns the run's own task objects.
 *
 * @throws AgolaError when a run task has no run config task (a broken run).
 */
export function getTasksToRun(run: Run, runConfig: RunConfig): RunTask[] {
  const toRun: RunTask[] = [];
  for (const rt of Object.values(run.tasks)) {
    if (rt.skip === true || rt.status !== 'notstarted') continue;
    const rct = rcTask(runConfig, rt.id);
    if (!allParentsDone(run, runConfig, rct)) continue;
    if (!matchesParentDependConditions(run, runConfig, rct)) continue;
    if (rct.needs_approval === true && rt.approved !== true) continue;
    toRun.push(rt);
  }
  return toRun;
}

/**
 * Marks the log and archive fetch phases `finished` for every finished task that has no
 * executor task (a task skipped or cancelled before it was scheduled): there is nothing to
 * fetch. Agola's fetcher does this for every finished task whose executor task is gone; without
 * it, a task depending on a skipped task with a `save_to_workspace` step would wait forever
 * for its parent's archives. Returns a copy and whether anything changed.
 */
export function finishFetchOfUnscheduledTasks(
  run: Run,
  scheduledExecutorTasks: readonly ScheduledTask[],
): { run: Run; changed: boolean } {
  const next = structuredClone(run);
  const scheduled = new Set(scheduledExecutorTasks.map((et) => et.id));
  let changed = false;
  for (const rt of Object.values(next.tasks)) {
    if (!isRunTaskStatusFinished(rt.status) || scheduled.has(rt.id)) continue;
    if (rt.setup_step.log_phase !== 'finished') {
      rt.setup_step.log_phase = 'finished';
      changed = true;
    }
    for (const st of rt.steps) {
      if (st.log_phase !== 'finished') {
        st.log_phase = 'finished';
        changed = true;
      }
    }
    if (rt.workspace_archives_phase.some((p) => p !== 'finished')) {
      rt.workspace_archives_phase = rt.workspace_archives_phase.map(() => 'finished');
      changed = true;
    }
  }
  return { run: next, changed };
}

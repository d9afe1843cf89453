/**
 * Run creation and recreation (reference §7.3): validation of the task graph, levels, the
 * initial Run and RunConfig, restart rules and the rewiring of a restarted run. Pure: ids and
 * time are passed in.
 */
import type {
  Run,
  RunConfig,
  RunConfigTask,
  RunConfigTaskDepend,
  RunConfigStep,
  RunCreateRequest,
  RunTask,
  RunTaskStep,
} from '@agola-ts/types';
import { isRunPhaseFinished } from '@agola-ts/types';
import { invalid, invalidState } from '../errors.js';
import {
  buildTaskGraph,
  compareByLevelName,
  quote,
  stronglyConnectedComponents,
  taskById,
  topologicalOrder,
  type RunConfigTasks,
} from './graph.js';

/** A run and its run config, as created, recreated or loaded together. */
export interface RunBundle {
  /** The run (state). */
  run: Run;
  /** Its immutable configuration. */
  runConfig: RunConfig;
}

function byName(a: RunConfigTask, b: RunConfigTask): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Checks the task graph of a run config and returns its violations (empty when valid), with
 * Agola's messages:
 * - every cycle, one message per task in a cycle:
 *   `circular dependency between task "a" and tasks "b"` (the tasks named are the ancestors of
 *   `a` that depend on it directly);
 * - else the first task whose parent depends on a task it also depends on:
 *   `task "c" and its parent "b" have both a dependency on task "a"`.
 *
 * Beyond Agola, the graph is checked first for what would break lookups later: a task stored
 * under a key other than its `id` (`task key "k" differs from its id "i"`) and a depend on a task
 * that is not in the run (`task "a" depends on unknown task "x"`); Agola silently treated such
 * a task as a root. Tasks are visited by name, so messages come in a stable order.
 *
 * Linear in tasks and depends, except the common-dependency check, which keeps one ancestor
 * bitset per task (n² / 8 bytes: 125 KB for 1000 tasks).
 */
export function checkRunConfigTasks(tasks: RunConfigTasks): string[] {
  const all = Object.entries(tasks);
  const structural: string[] = [];
  for (const [key, t] of all) {
    if (t.id !== key) structural.push(`task key ${quote(key)} differs from its id ${quote(t.id)}`);
  }
  for (const [, t] of all) {
    for (const parentId of Object.keys(t.depends ?? {})) {
      if (taskById(tasks, parentId) === undefined) {
        structural.push(`task ${quote(t.name)} depends on unknown task ${quote(parentId)}`);
      }
    }
  }
  if (structural.length > 0) return structural;

  const sorted = all.map(([, t]) => t).sort(byName);
  const graph = buildTaskGraph(tasks);
  const tasksOf = (ids: readonly string[]): RunConfigTask[] =>
    ids.flatMap((id) => taskById(tasks, id) ?? []).sort(byName);

  // a task is in a cycle when one of its children is in its strongly connected component:
  // those children are exactly its ancestors that depend on it directly (Agola's message)
  const component = stronglyConnectedComponents(graph);
  const cycles: string[] = [];
  for (const t of sorted) {
    const c = component.get(t.id);
    const inCycle = (graph.children.get(t.id) ?? []).filter((k) => component.get(k) === c);
    if (inCycle.length === 0) continue;
    const dep = tasksOf(inCycle).map((p) => quote(p.name));
    cycles.push(`circular dependency between task ${quote(t.name)} and tasks ${dep.join(' ')}`);
  }
  if (cycles.length > 0) return cycles;

  // the graph is acyclic: ancestor sets as bitsets, built parents first
  const order = topologicalOrder(graph);
  const bit = new Map(order.map((id, i) => [id, i]));
  const words = Math.ceil(order.length / 32);
  const ancestors = new Map<string, Uint32Array>();
  for (const id of order) {
    const set = new Uint32Array(words);
    for (const p of graph.parents.get(id) ?? []) {
      const pa = ancestors.get(p);
      if (pa !== undefined) for (let w = 0; w < words; w++) set[w] = (set[w] ?? 0) | (pa[w] ?? 0);
      const b = bit.get(p) ?? 0;
      set[b >>> 5] = (set[b >>> 5] ?? 0) | (1 << (b & 31));
    }
    ancestors.set(id, set);
  }
  const isAncestor = (of: string, id: string): boolean => {
    const b = bit.get(id) ?? 0;
    return (((ancestors.get(of)?.[b >>> 5] ?? 0) >>> (b & 31)) & 1) === 1;
  };

  for (const t of sorted) {
    const parents = tasksOf(graph.parents.get(t.id) ?? []);
    if (parents.length < 2) continue;
    for (const parent of parents) {
      for (const p of parents) {
        if (isAncestor(parent.id, p.id)) {
          return [
            `task ${quote(t.name)} and its parent ${quote(parent.name)} have both a dependency on task ${quote(p.name)}`,
          ];
        }
      }
    }
  }
  return [];
}

/** What {@link computeLevels} found. */
export interface LevelsResult {
  /** Task id → level: 0 for roots, else 1 + the highest parent level. */
  levels: Map<string, number>;
  /** `circular dependency detected` when some task could not get a level. */
  error?: string;
}

/**
 * Computes the level of every task: 0 for tasks without parents, else 1 + the highest level of
 * its parents. Tasks on or below a cycle get no level, and `error` is Agola's
 * `circular dependency detected`.
 *
 * @example
 * ```ts
 * computeLevels(tasks).levels.get(buildTaskId); // 0
 * ```
 */
export function computeLevels(tasks: RunConfigTasks): LevelsResult {
  const graph = buildTaskGraph(tasks);
  const levels = new Map<string, number>();
  for (const id of topologicalOrder(graph)) {
    const parentLevels = (graph.parents.get(id) ?? []).map((p) => levels.get(p) ?? 0);
    levels.set(id, parentLevels.length === 0 ? 0 : Math.max(...parentLevels) + 1);
  }
  if (levels.size < graph.ids.length) return { levels, error: 'circular dependency detected' };
  return { levels };
}

/**
 * A step with Agola's decoding defaults: a `run` step without `tty` gets `tty: true` (Agola's
 * step decoder sets it, so its stored run configs and spec data always carry it).
 */
export function withStepDefaults(step: RunConfigStep): RunConfigStep {
  if (step.type === 'run' && step.tty === undefined) return { ...step, tty: true };
  return step;
}

function newRunTaskStep(): RunTaskStep {
  return { phase: 'notstarted', log_phase: 'notstarted', exit_status: null };
}

/**
 * The initial state of a task (Agola's `genRunTask`): `notstarted` (`skipped` when the config
 * task is skipped), one step entry per config step, and `workspace_archives` = the indexes of
 * its `save_to_workspace` steps, each with fetch phase `notstarted`.
 */
export function newRunTask(rct: RunConfigTask): RunTask {
  const steps = rct.steps ?? [];
  const workspaceArchives: number[] = [];
  steps.forEach((s, i) => {
    if (s.type === 'save_to_workspace') workspaceArchives.push(i);
  });
  const rt: RunTask = {
    id: rct.id,
    status: rct.skip === true ? 'skipped' : 'notstarted',
    setup_step: newRunTaskStep(),
    steps: steps.map(() => newRunTaskStep()),
    workspace_archives: workspaceArchives,
    workspace_archives_phase: workspaceArchives.map(() => 'notstarted'),
  };
  if (rct.skip === true) rt.skip = true;
  return rt;
}

/**
 * Throws the 400 Agola answers for a new-run request it cannot accept: an empty group
 * (`run group is empty`), a relative one (`run group "x" must be an absolute path`), neither
 * tasks nor setup errors (`empty run config tasks and setup errors`). Beyond Agola, a group
 * with fewer than two elements (`/project`) is refused here too
 * (`run group "/x" must have a type and an id`): Agola failed later, saving its counter.
 *
 * Call it before allocating a run id; {@link newRun} calls it too.
 *
 * @throws AgolaError `ERR_RUNSERVICE_INVALID_REQUEST` (HTTP 400).
 */
export function validateNewRunRequest(req: RunCreateRequest): void {
  const group = req.group ?? '';
  if (group === '') throw invalid('run group is empty');
  if (!group.startsWith('/')) throw invalid(`run group ${quote(group)} must be an absolute path`);
  if (pathList(group).length < 2) {
    throw invalid(`run group ${quote(group)} must have a type and an id`);
  }
  if (req.run_config_tasks == null && (req.setup_errors ?? []).length === 0) {
    throw invalid('empty run config tasks and setup errors');
  }
}

/** The elements of a slash-separated path, without empty and `.` elements. */
export function pathList(p: string): string[] {
  return p.split('/').filter((e) => e !== '' && e !== '.');
}

/** What {@link newRun} needs besides the request. */
export interface NewRunOptions {
  /** The new run id (from the run sequence). */
  id: string;
  /** Creation time: the run's `enqueue_time`. */
  now: Date;
}

/**
 * Builds a new run and its run config from a create request (Agola's `newRun` + `genRun`).
 * The task graph is checked ({@link checkRunConfigTasks}) and levels computed
 * ({@link computeLevels}); a violation becomes one more setup error (several cycle messages
 * joined by `, `, as Agola). `run` steps without `tty` get `tty: true` ({@link withStepDefaults}).
 * With setup errors the run is in phase `setuperror` and has no
 * tasks; otherwise it is `queued` with result `unknown`, and one {@link newRunTask} per config
 * task. `counter` is 0: the caller sets it when it saves the run.
 *
 * @throws AgolaError `ERR_RUNSERVICE_INVALID_REQUEST` from {@link validateNewRunRequest}.
 */
export function newRun(req: RunCreateRequest, options: NewRunOptions): RunBundle {
  validateNewRunRequest(req);
  const setupErrors = [...(req.setup_errors ?? [])];
  const tasks: Record<string, RunConfigTask> = structuredClone(req.run_config_tasks ?? {});
  for (const t of Object.values(tasks)) {
    if (t.steps !== undefined) t.steps = t.steps.map(withStepDefaults);
  }

  const graphErrors = checkRunConfigTasks(tasks);
  if (graphErrors.length > 0) setupErrors.push(graphErrors.join(', '));
  if (setupErrors.length === 0) {
    const { levels, error } = computeLevels(tasks);
    if (error !== undefined) setupErrors.push(error);
    else for (const t of Object.values(tasks)) t.level = levels.get(t.id) ?? 0;
  }

  const runConfig: RunConfig = {
    id: options.id,
    name: req.name ?? '',
    group: req.group ?? '',
    setup_errors: setupErrors,
    tasks,
    static_environment: { ...req.static_environment },
    environment: { ...req.environment },
    annotations: { ...req.annotations },
  };
  if (req.cache_group !== undefined && req.cache_group !== '') {
    runConfig.cache_group = req.cache_group;
  }

  const run: Run = {
    id: options.id,
    name: runConfig.name,
    counter: 0,
    group: runConfig.group,
    annotations: { ...req.annotations },
    phase: setupErrors.length > 0 ? 'setuperror' : 'queued',
    result: 'unknown',
    tasks: {},
    enqueue_time: options.now.toISOString(),
  };
  if (setupErrors.length === 0) {
    run.tasks = Object.fromEntries(Object.values(tasks).map((t) => [t.id, newRunTask(t)]));
  }
  return { run, runConfig };
}

/** Whether every log of a task (setup and steps) is in object storage. */
export function logsFetchFinished(rt: RunTask): boolean {
  return (
    rt.setup_step.log_phase === 'finished' && rt.steps.every((s) => s.log_phase === 'finished')
  );
}

/** Whether every workspace archive of a task is in object storage. */
export function archivesFetchFinished(rt: RunTask): boolean {
  return rt.workspace_archives_phase.every((p) => p === 'finished');
}

/**
 * Why a run cannot be restarted, or `undefined` when it can (Agola's `CanRestartFromScratch` /
 * `CanRestartFromFailedTasks`): never from `setuperror`, only from a finished phase; from
 * failed tasks also needs a non-success result and every successful task fully fetched.
 */
export function restartDeniedReason(run: Run, fromStart: boolean): string | undefined {
  if (run.phase === 'setuperror') return 'run has setup errors';
  if (!isRunPhaseFinished(run.phase)) return `run is not finished, phase: ${quote(run.phase)}`;
  if (fromStart) return undefined;
  if (run.result === 'success') {
    return `run ${quote(run.id)} has success result, cannot restart from failed tasks`;
  }
  for (const rt of Object.values(run.tasks)) {
    if (rt.status === 'success' && (!logsFetchFinished(rt) || !archivesFetchFinished(rt))) {
      return `run ${quote(run.id)} task ${quote(rt.id)} not fully archived`;
    }
  }
  return undefined;
}

/**
 * Throws unless `run` may be restarted (from scratch when `fromStart`, else from its failed
 * tasks), with Agola's message `run cannot be restarted: <reason>`.
 *
 * @throws AgolaError `ERR_RUNSERVICE_INVALID_STATE` (HTTP 400).
 */
export function checkRestartAllowed(run: Run, options: { fromStart: boolean }): void {
  const reason = restartDeniedReason(run, options.fromStart);
  if (reason !== undefined) throw invalidState(`run cannot be restarted: ${reason}`);
}

/** What {@link recreateRun} needs besides the old run and the request. */
export interface RecreateRunOptions {
  /** The new run id (from the run sequence). */
  id: string;
  /** Creation time: the run's `enqueue_time`. */
  now: Date;
  /** A new unique id for a re-run task (given its name). */
  newTaskId: (taskName: string) => string;
}

/**
 * Builds the run and run config of a restart (Agola's `recreateRun`), without touching `old`.
 * The run config gets the new id and the request's `environment`; the run gets the new id,
 * phase `queued`, result `unknown`, no stop, not archived, and only `enqueue_time` (= now).
 *
 * The tasks to re-run are all (`from_start`) or every task that did not succeed, plus all their
 * descendants: each gets a new id from `newTaskId` (visited by level, then name) and a fresh
 * {@link newRunTask}; every `depends` naming a re-run task is rewired to its new id. Kept tasks
 * keep their id, status, steps and fetched archives, which later tasks restore by that id.
 *
 * Call {@link checkRestartAllowed} first.
 */
export function recreateRun(
  old: RunBundle,
  req: RunCreateRequest,
  options: RecreateRunOptions,
): RunBundle {
  const fromStart = req.from_start === true;
  const oldTasks = old.runConfig.tasks;

  // the tasks to re-run, then all their descendants
  const graph = buildTaskGraph(oldTasks);
  const rerun = new Set<string>();
  for (const rt of Object.values(old.run.tasks)) {
    if (fromStart || rt.status !== 'success') rerun.add(rt.id);
  }
  const queue = [...rerun];
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    for (const c of graph.children.get(id) ?? []) {
      if (!rerun.has(c)) {
        rerun.add(c);
        queue.push(c);
      }
    }
  }

  const newIds = new Map<string, string>();
  const ordered = Object.values(oldTasks)
    .filter((t) => rerun.has(t.id))
    .sort(compareByLevelName);
  for (const rct of ordered) newIds.set(rct.id, options.newTaskId(rct.name));
  const idOf = (id: string): string => newIds.get(id) ?? id;

  const tasks = Object.fromEntries(
    Object.values(oldTasks).map((t): [string, RunConfigTask] => {
      const nt = structuredClone(t);
      nt.id = idOf(t.id);
      nt.depends = Object.fromEntries(
        Object.entries(t.depends ?? {}).map(([pid, d]): [string, RunConfigTaskDepend] => {
          const nd: RunConfigTaskDepend = { ...structuredClone(d), task_id: idOf(pid) };
          return [idOf(pid), nd];
        }),
      );
      return [nt.id, nt];
    }),
  );

  const runConfig: RunConfig = {
    ...structuredClone(old.runConfig),
    id: options.id,
    environment: { ...req.environment },
    tasks,
  };

  const renewed = new Set(newIds.values());
  const runTasks = Object.fromEntries(
    Object.values(tasks).map((t): [string, RunTask] => {
      const kept = renewed.has(t.id) ? undefined : taskById(old.run.tasks, t.id);
      return [t.id, kept !== undefined ? structuredClone(kept) : newRunTask(t)];
    }),
  );
  const run: Run = structuredClone(old.run);
  delete run.stop;
  delete run.archived;
  delete run.start_time;
  delete run.end_time;
  run.id = options.id;
  run.phase = 'queued';
  run.result = 'unknown';
  run.tasks = runTasks;
  run.enqueue_time = options.now.toISOString();
  return { run, runConfig };
}

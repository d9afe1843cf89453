/**
 * Executor tasks (reference §7.1 and §7.2): what is stored in etcd, the spec data regenerated
 * for executors, and how a reported status moves the run task. Pure.
 */
import { errorf, newError } from '@agola-ts/errors';
import type {
  Executor,
  ExecutorTask,
  ExecutorTaskPhase,
  ExecutorTaskSpecData,
  Run,
  RunConfig,
  RunConfigTask,
  RunTask,
  RunTaskStatus,
  WorkspaceOperation,
} from '@agola-ts/types';
import { compareByLevelName, getAllParents, quote, taskById } from './graph.js';
import { pathList, withStepDefaults } from './run-create.js';

function rcTask(runConfig: RunConfig, id: string): RunConfigTask {
  const rct = taskById(runConfig.tasks, id);
  if (rct === undefined) {
    throw errorf('no such run config task with id %s for run config %s', id, runConfig.id);
  }
  return rct;
}

/**
 * The executor task for a run task placed on `executor`, as stored in etcd (Agola's
 * `GenExecutorTask`): id = run task id (so a run task is executed at most once), spec
 * `{ executor_id, run_id }` without spec data, status `notstarted` with one `notstarted` step
 * status per config step.
 *
 * @throws AgolaError when the run task has no run config task.
 */
export function genExecutorTask(
  run: Run,
  runTask: RunTask,
  runConfig: RunConfig,
  executor: Executor,
): ExecutorTask {
  const rct = rcTask(runConfig, runTask.id);
  return {
    id: runTask.id,
    spec: { executor_id: executor.id, run_id: run.id },
    status: {
      phase: 'notstarted',
      setup_step: { phase: 'notstarted' },
      steps: (rct.steps ?? []).map(() => ({ phase: 'notstarted' })),
    },
  };
}

/**
 * The cache prefix of a run: its run config's `cache_group` when set, else the second element
 * of the run group (the project or user id).
 *
 * @throws AgolaError when the group has fewer than two elements.
 */
export function cachePrefixOf(run: Run, runConfig: RunConfig): string {
  if (runConfig.cache_group !== undefined && runConfig.cache_group !== '') {
    return runConfig.cache_group;
  }
  const root = pathList(run.group)[1];
  if (root === undefined) {
    throw newError(`cannot determine root group name, wrong group path ${quote(run.group)}`);
  }
  return root;
}

/**
 * The spec data an executor needs for a run task, regenerated from the run and its run config
 * each time a task is sent (Agola's `GenExecutorTaskSpecData`):
 * - `environment`: the task's, overlaid with the run config `static_environment`, then its
 *   `environment` (the last wins);
 * - `cache_prefix`: {@link cachePrefixOf};
 * - `workspace_operations`: for every ancestor task, sorted by level then name, one operation
 *   per index in its `workspace_archives`;
 * - `privileged` is always false (privilege is per container).
 *
 * @throws AgolaError when the run task has no run config task or the group is malformed.
 */
export function genExecutorTaskSpecData(
  run: Run,
  runTask: RunTask,
  runConfig: RunConfig,
): ExecutorTaskSpecData {
  const rct = rcTask(runConfig, runTask.id);
  const environment: Record<string, string> = Object.fromEntries([
    ...Object.entries(rct.environment ?? {}),
    ...Object.entries(runConfig.static_environment ?? {}),
    ...Object.entries(runConfig.environment ?? {}),
  ]);

  const workspaceOperations: WorkspaceOperation[] = [];
  for (const parent of getAllParents(runConfig.tasks, rct).sort(compareByLevelName)) {
    const prt = taskById(run.tasks, parent.id);
    for (const step of prt?.workspace_archives ?? []) {
      workspaceOperations.push({ task_id: parent.id, step });
    }
  }

  const data: ExecutorTaskSpecData = {
    task_name: rct.name,
    containers: structuredClone(rct.runtime?.containers ?? []),
    environment,
    working_dir: rct.working_dir ?? '',
    shell: rct.shell ?? '',
    user: rct.user ?? '',
    privileged: false,
    workspace_operations: workspaceOperations,
    docker_registries_auth: structuredClone(rct.docker_registries_auth ?? null),
    cache_prefix: cachePrefixOf(run, runConfig),
    steps: structuredClone(rct.steps ?? []).map(withStepDefaults),
  };
  if (rct.runtime?.arch !== undefined) data.arch = rct.runtime.arch;
  return data;
}

/** Run task statuses from which each executor task phase may be applied (Agola's table). */
const ALLOWED_FROM: Record<ExecutorTaskPhase, readonly RunTaskStatus[]> = {
  notstarted: ['notstarted'],
  cancelled: ['cancelled', 'notstarted'],
  running: ['running', 'notstarted'],
  stopped: ['stopped', 'notstarted', 'running'],
  success: ['success', 'notstarted', 'running'],
  failed: ['failed', 'notstarted', 'running'],
};

/**
 * Whether an executor task phase may be applied to a run task in `status`: `notstarted` only
 * to a `notstarted` task; `cancelled` to a cancelled or notstarted one; `running` to a running
 * or notstarted one; `stopped`, `success` and `failed` to the same status, notstarted or
 * running.
 */
export function isExecutorPhaseAllowed(phase: ExecutorTaskPhase, status: RunTaskStatus): boolean {
  return Object.hasOwn(ALLOWED_FROM, phase) && ALLOWED_FROM[phase].includes(status);
}

function setOptional<T extends object, K extends keyof T>(
  obj: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}

/**
 * Applies an executor task's reported status to its run task, in place (Agola's
 * `updateRunTaskStatus`). When the phase is allowed ({@link isExecutorPhaseAllowed}) the task
 * status becomes the phase, and the task's start and end times, the setup step's phase and
 * times, and each step's phase, exit status and times are copied; it returns `true`. A phase
 * that is not allowed changes nothing and returns `false` (the caller logs and ignores it;
 * Agola still copied the task's times).
 *
 * @throws AgolaError when the run has no task with the executor task's id.
 */
export function updateRunTaskStatus(run: Run, executorTask: ExecutorTask): boolean {
  const rt = taskById(run.tasks, executorTask.id);
  if (rt === undefined) {
    throw errorf('no such run task with id %s for run %s', executorTask.id, run.id);
  }
  const st = executorTask.status;
  if (!isExecutorPhaseAllowed(st.phase, rt.status)) return false;

  rt.status = st.phase;
  setOptional(rt, 'start_time', st.start_time);
  setOptional(rt, 'end_time', st.end_time);
  rt.setup_step.phase = st.setup_step.phase;
  setOptional(rt.setup_step, 'start_time', st.setup_step.start_time);
  setOptional(rt.setup_step, 'end_time', st.setup_step.end_time);
  // Go executors omit an empty `steps` list
  (st.steps ?? []).forEach((s, i) => {
    const step = rt.steps[i];
    if (step === undefined) return;
    step.phase = s.phase;
    step.exit_status = s.exit_status ?? null;
    setOptional(step, 'start_time', s.start_time);
    setOptional(step, 'end_time', s.end_time);
  });
  return true;
}

/**
 * Executor and executor task types of the runservice (Agola v0.7 `Executor`, `ExecutorTask`),
 * with Agola's JSON field names: snake_case, except `listenURL`.
 */
import type {
  Arch,
  DockerRegistryAuth,
  RunConfigStep,
  Container,
  ExecutorTaskPhase,
} from './run.js';

export type { ExecutorTaskPhase };

/** Every {@link ExecutorTaskPhase}. */
export const EXECUTOR_TASK_PHASES: readonly ExecutorTaskPhase[] = [
  'notstarted',
  'cancelled',
  'running',
  'stopped',
  'success',
  'failed',
];

/**
 * Whether an executor task phase is final: `cancelled`, `stopped`, `success` or `failed`.
 *
 * @example
 * ```ts
 * isExecutorTaskPhaseFinished('running'); // false
 * isExecutorTaskPhaseFinished('stopped'); // true
 * ```
 */
export function isExecutorTaskPhaseFinished(phase: ExecutorTaskPhase): boolean {
  return phase === 'cancelled' || phase === 'stopped' || phase === 'success' || phase === 'failed';
}

/**
 * An executor as it registers itself with its heartbeat (`POST /executor/{id}`) and as the
 * runservice keeps it in etcd.
 */
export interface Executor {
  /** Unique executor id. */
  id: string;
  /** Base URL where the runservice reaches the executor's API (Agola's camel-case JSON name). */
  listenURL: string;
  /** Architectures the executor can run tasks on (empty: none declared). */
  archs?: Arch[];
  /** Free-form labels. */
  labels?: Record<string, string>;
  /** Whether tasks with privileged containers may run there. */
  allow_privileged_containers?: boolean;
  /** Most tasks running at once; 0 or absent means no limit. */
  active_tasks_limit?: number;
  /** Tasks the executor reports as active. */
  active_tasks?: number;
  /** A dynamic executor is removed when its group's siblings no longer list it. */
  dynamic?: boolean;
  /** The group of executors sharing the same resources (dynamic executors). */
  executor_group?: string;
  /** Ids of every executor of the group, as this executor sees them. */
  siblings_executors?: string[];
  /** ISO-8601 time of the last heartbeat, set by the runservice when it receives one. */
  last_status_update_time: string;
}

/** One workspace archive to restore before a task runs: the archive of a parent's step. */
export interface WorkspaceOperation {
  /** Id of the ancestor run task that saved the archive. */
  task_id: string;
  /** Index of the ancestor's `save_to_workspace` step. */
  step: number;
  /** Whether files may overwrite existing ones (never set by Agola v0.7). */
  overwrite?: boolean;
}

/**
 * What an executor needs to run a task. It is never stored in etcd (it can be large): the
 * runservice regenerates it from the run and its run config whenever it sends a task.
 */
export interface ExecutorTaskSpecData {
  /** Name of the run config task. */
  task_name: string;
  /** Required architecture, if any. */
  arch?: Arch;
  /** The pod's containers; the first is the main one. */
  containers: Container[];
  /** Task environment overlaid with the run's static environment, then its environment. */
  environment: Record<string, string>;
  /** Task working dir. */
  working_dir: string;
  /** Task shell. */
  shell: string;
  /** Task user. */
  user: string;
  /** Always `false`: privilege is per container. */
  privileged: boolean;
  /** Archives of every ancestor task to restore, sorted by ancestor level then name. */
  workspace_operations: WorkspaceOperation[];
  /** Registry credentials by registry host (`null` when the task has none, as Agola sends). */
  docker_registries_auth: Record<string, DockerRegistryAuth> | null;
  /** Prefix of the task's cache keys: the run config cache group, else the project or user id. */
  cache_prefix: string;
  /** The task's steps. */
  steps: RunConfigStep[];
}

/**
 * The spec of an executor task. As stored in etcd it holds only `executor_id`, `run_id` and
 * `stop`; the {@link ExecutorTaskSpecData} fields are inlined when the task is sent to or
 * fetched by an executor (see {@link ExecutorTaskWithData}).
 */
export interface ExecutorTaskSpec extends Partial<ExecutorTaskSpecData> {
  /** The executor the task was assigned to. */
  executor_id: string;
  /** The run the task belongs to. */
  run_id: string;
  /** Set by the runservice when the task must be stopped. */
  stop?: boolean;
}

/** Status of the setup step or of one step of an executor task. */
export interface ExecutorTaskStepStatus {
  /** Step phase. */
  phase: ExecutorTaskPhase;
  /** ISO-8601 start time. */
  start_time?: string;
  /** ISO-8601 end time. */
  end_time?: string;
  /** Exit code of a finished `run` step. */
  exit_status?: number;
}

/** Status of an executor task, as the executor reports it. */
export interface ExecutorTaskStatus {
  /** Executor task id (unused by Agola v0.7). */
  id?: string;
  /** Revision of the reported status (unused by Agola v0.7). */
  revision?: number;
  /** Task phase. */
  phase: ExecutorTaskPhase;
  /** Why the task failed outside its steps (`executor deleted`, a setup error). */
  fail_error?: string;
  /** Status of the setup (pod creation, workspace restore). */
  setup_step: ExecutorTaskStepStatus;
  /** One status per task step. */
  steps: ExecutorTaskStepStatus[];
  /** ISO-8601 start time. */
  start_time?: string;
  /** ISO-8601 end time. */
  end_time?: string;
}

/**
 * A task assigned to an executor. Its `id` is the run task id, which is how the runservice
 * makes sure a run task is executed at most once.
 */
export interface ExecutorTask {
  /** The run task id. */
  id: string;
  /** What to run and where. */
  spec: ExecutorTaskSpec;
  /** What the executor reported. */
  status: ExecutorTaskStatus;
}

/** An executor task with its spec data inlined: what executors receive. */
export interface ExecutorTaskWithData extends ExecutorTask {
  /** Spec with every {@link ExecutorTaskSpecData} field. */
  spec: ExecutorTaskSpec & ExecutorTaskSpecData;
}

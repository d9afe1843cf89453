/**
 * Run types of the runservice (Agola v0.7 `Run`, `RunTask`, `RunConfig`, `RunConfigTask`,
 * `RunEvent` and the bodies of the run routes), with Agola's JSON field names.
 */

/** A CPU architecture a task may require and an executor may offer. */
export type Arch = '386' | 'amd64' | 'arm' | 'arm64';

/** Every {@link Arch}. */
export const ARCHS: readonly Arch[] = ['386', 'amd64', 'arm', 'arm64'];

/** Phase of a run: `queued` → `running` → `finished`, or `cancelled`, or `setuperror`. */
export type RunPhase = 'setuperror' | 'queued' | 'cancelled' | 'running' | 'finished';

/** Every {@link RunPhase}. */
export const RUN_PHASES: readonly RunPhase[] = [
  'setuperror',
  'queued',
  'cancelled',
  'running',
  'finished',
];

/**
 * Whether a run phase is final: `setuperror`, `cancelled` or `finished`.
 *
 * @example
 * ```ts
 * isRunPhaseFinished('running'); // false
 * isRunPhaseFinished('cancelled'); // true
 * ```
 */
export function isRunPhaseFinished(phase: RunPhase): boolean {
  return phase === 'setuperror' || phase === 'cancelled' || phase === 'finished';
}

/** Result of a run; set (not `unknown`) while the run may still be in phase `running`. */
export type RunResult = 'unknown' | 'stopped' | 'success' | 'failed';

/** Every {@link RunResult}. */
export const RUN_RESULTS: readonly RunResult[] = ['unknown', 'stopped', 'success', 'failed'];

/** Status of a run task. */
export type RunTaskStatus =
  'notstarted' | 'skipped' | 'cancelled' | 'running' | 'stopped' | 'success' | 'failed';

/** Every {@link RunTaskStatus}. */
export const RUN_TASK_STATUSES: readonly RunTaskStatus[] = [
  'notstarted',
  'skipped',
  'cancelled',
  'running',
  'stopped',
  'success',
  'failed',
];

/**
 * Whether a run task status is final: every status but `notstarted` and `running`.
 *
 * @example
 * ```ts
 * isRunTaskStatusFinished('skipped'); // true
 * isRunTaskStatusFinished('running'); // false
 * ```
 */
export function isRunTaskStatusFinished(status: RunTaskStatus): boolean {
  return status !== 'notstarted' && status !== 'running';
}

/** Whether a log or workspace archive has been copied from the executor to object storage. */
export type RunTaskFetchPhase = 'notstarted' | 'finished';

/** Every {@link RunTaskFetchPhase}. */
export const RUN_TASK_FETCH_PHASES: readonly RunTaskFetchPhase[] = ['notstarted', 'finished'];

/** When a task runs, given the final status of a parent. */
export type RunConfigTaskDependCondition = 'on_success' | 'on_failure' | 'on_skipped';

/** Every {@link RunConfigTaskDependCondition}. */
export const RUN_CONFIG_TASK_DEPEND_CONDITIONS: readonly RunConfigTaskDependCondition[] = [
  'on_success',
  'on_failure',
  'on_skipped',
];

/** Name given to runs created from a config that could not be set up. */
export const RUN_GENERIC_SETUP_ERROR_NAME = 'Setup Error';

/** A dependency of a run config task on its parent `task_id`. */
export interface RunConfigTaskDepend {
  /** Parent task id. */
  task_id: string;
  /**
   * The parent's final status must match one of them. The planner writes `on_success` when the
   * config names none; in the runservice an empty list never matches (the task is skipped).
   */
  conditions?: RunConfigTaskDependCondition[];
}

/** A tmpfs volume; `size` in bytes (0: the runtime's default). */
export interface VolumeTmpFS {
  /** Size in bytes. */
  size: number;
}

/** A volume mounted in a container. */
export interface Volume {
  /** Mount path. */
  path: string;
  /** The volume is a tmpfs (the only kind in Agola v0.7); `null` otherwise. */
  tmpfs: VolumeTmpFS | null;
}

/** A container of a task's pod. */
export interface Container {
  /** Image reference. */
  image: string;
  /** Container environment. */
  environment?: Record<string, string>;
  /** User ('' or absent: the image default). */
  user?: string;
  /** Privileged container: only on executors that allow it. */
  privileged: boolean;
  /** Entrypoint ('' for the default). */
  entrypoint: string;
  /** Volumes. */
  volumes: Volume[];
}

/** Where a task runs: a pod of containers. */
export interface Runtime {
  /** Always `pod`. */
  type: 'pod';
  /** Required architecture, if any. */
  arch?: Arch;
  /** The containers; the first one runs the steps. */
  containers: Container[];
}

/** Kind of registry credentials. */
export type DockerRegistryAuthType = 'basic' | 'encodedauth';

/** Credentials for an image registry. */
export interface DockerRegistryAuth {
  /** `basic` (username + password) or `encodedauth` (auth). */
  type: DockerRegistryAuthType;
  /** Basic auth user. */
  username: string;
  /** Basic auth password. */
  password: string;
  /** Encoded auth string. */
  auth: string;
}

/** What a `save_to_workspace` or `save_cache` step saves. */
export interface SaveContent {
  /** Directory the paths are relative to. */
  source_dir?: string;
  /** Directory inside the archive. */
  dest_dir?: string;
  /** Glob patterns. */
  paths?: string[];
}

/** A step running a command. */
export interface RunStep {
  /** Step type. */
  type: 'run';
  /** Step name. */
  name?: string;
  /** Script to run. */
  command?: string;
  /** Step environment. */
  environment?: Record<string, string>;
  /** Working dir ('' for the task's). */
  working_dir?: string;
  /** Shell ('' for the task's). */
  shell?: string;
  /** Allocate a tty. @default true */
  tty?: boolean;
}

/** A step archiving files into the run's workspace for later tasks. */
export interface SaveToWorkspaceStep {
  /** Step type. */
  type: 'save_to_workspace';
  /** Step name. */
  name?: string;
  /** What to save. */
  contents?: SaveContent[];
}

/** A step restoring the workspace archives of the task's ancestors. */
export interface RestoreWorkspaceStep {
  /** Step type. */
  type: 'restore_workspace';
  /** Step name. */
  name?: string;
  /** Where to restore. */
  dest_dir?: string;
}

/** A step saving a cache under a key. */
export interface SaveCacheStep {
  /** Step type. */
  type: 'save_cache';
  /** Step name. */
  name?: string;
  /** Key template. */
  key?: string;
  /** What to save. */
  contents?: SaveContent[];
}

/** A step restoring the first cache whose key matches. */
export interface RestoreCacheStep {
  /** Step type. */
  type: 'restore_cache';
  /** Step name. */
  name?: string;
  /** Key templates, tried in order as prefixes. */
  keys?: string[];
  /** Where to restore. */
  dest_dir?: string;
}

/** Any step of a run config task, keyed by `type`. */
export type RunConfigStep =
  RunStep | SaveToWorkspaceStep | RestoreWorkspaceStep | SaveCacheStep | RestoreCacheStep;

/** Every step `type`. */
export const RUN_CONFIG_STEP_TYPES: readonly RunConfigStep['type'][] = [
  'run',
  'save_to_workspace',
  'restore_workspace',
  'save_cache',
  'restore_cache',
];

/** A task of a run config: everything resolved, parents referenced by task id. */
export interface RunConfigTask {
  /** 0 for tasks without parents, else 1 + the highest parent level (computed at creation). */
  level: number;
  /** Task id. */
  id: string;
  /** Task name. */
  name: string;
  /** Parent task id → dependency. */
  depends: Record<string, RunConfigTaskDepend>;
  /** Where the task runs. */
  runtime?: Runtime;
  /** Task environment. */
  environment?: Record<string, string>;
  /** Working dir. */
  working_dir?: string;
  /** Shell. */
  shell?: string;
  /** User. */
  user?: string;
  /** Steps. */
  steps?: RunConfigStep[];
  /** A failure of this task does not fail the run. */
  ignore_failure?: boolean;
  /** The task waits for an approval before it starts. */
  needs_approval?: boolean;
  /** The task is skipped from the start. */
  skip?: boolean;
  /** Registry credentials by registry host. */
  docker_registries_auth?: Record<string, DockerRegistryAuth> | null;
}

/**
 * The immutable configuration of a run (id = run id), kept in object storage: what does not
 * change while the run moves.
 */
export interface RunConfig {
  /** Same as the run id. */
  id: string;
  /** Run name. */
  name: string;
  /** Run group, e.g. `/project/<projectID>/branch/<branch>`. */
  group: string;
  /** Why the run could not be set up (phase `setuperror`). */
  setup_errors?: string[];
  /** Run annotations (also on the run). */
  annotations?: Record<string, string>;
  /** Variables that do not change when the run is recreated (COMMIT_SHA, ...). */
  static_environment?: Record<string, string>;
  /** Variables that may change when the run is recreated (secrets, ...); they win. */
  environment?: Record<string, string>;
  /** Task id → task. */
  tasks: Record<string, RunConfigTask>;
  /** Cache group of the run's caches (default: the project or user id). */
  cache_group?: string;
}

/**
 * Phase of an executor task, as the executor reports it (also the phase of a run task's
 * steps).
 */
export type ExecutorTaskPhase =
  'notstarted' | 'cancelled' | 'running' | 'stopped' | 'success' | 'failed';

/** State of the setup step or of one step of a run task. */
export interface RunTaskStep {
  /** Phase, as last reported by the executor. */
  phase: ExecutorTaskPhase;
  /** Whether the step's log is in object storage. */
  log_phase: RunTaskFetchPhase;
  /** Exit code; always serialized, `null` until known. */
  exit_status: number | null;
  /** ISO-8601 start time. */
  start_time?: string;
  /** ISO-8601 end time. */
  end_time?: string;
}

/** The state of one task of a run. */
export interface RunTask {
  /** Task id (the run config task id). */
  id: string;
  /** Status, as last known (an executor task may still be scheduled). */
  status: RunTaskStatus;
  /** Opaque annotations (e.g. `approvers`, a JSON array string of user ids). */
  annotations?: Record<string, string>;
  /** The task was skipped at creation. */
  skip?: boolean;
  /** The task is ready but waits for an approval. */
  waiting_approval?: boolean;
  /** The task was approved. */
  approved?: boolean;
  /** The setup step (pod creation, workspace restore). */
  setup_step: RunTaskStep;
  /** One entry per config step. */
  steps: RunTaskStep[];
  /** Indexes of the `save_to_workspace` steps. */
  workspace_archives: number[];
  /** Fetch phase of each workspace archive (same order as `workspace_archives`). */
  workspace_archives_phase: RunTaskFetchPhase[];
  /** ISO-8601 start time. */
  start_time?: string;
  /** ISO-8601 end time. */
  end_time?: string;
}

/** A run: its state. Kept in etcd while active, then archived into the datamanager. */
export interface Run {
  /** Run id (a run sequence string). */
  id: string;
  /** Run name. */
  name: string;
  /** Counter per base group (project or user). */
  counter: number;
  /** Run group, e.g. `/project/<projectID>/branch/<branch>`. */
  group: string;
  /** Run annotations. */
  annotations?: Record<string, string>;
  /** Phase. */
  phase: RunPhase;
  /** Result. */
  result: RunResult;
  /** Set when the run must be stopped. */
  stop?: boolean;
  /** Task id → task. */
  tasks: Record<string, RunTask>;
  /** ISO-8601 time the run was queued. */
  enqueue_time?: string;
  /** ISO-8601 time the run started running. */
  start_time?: string;
  /** ISO-8601 time the run reached a final phase. */
  end_time?: string;
  /** The run is finished, fully fetched and moved out of etcd. */
  archived?: boolean;
}

/** A run phase or result change (untagged JSON, Go field names, as Agola's). */
export interface RunEvent {
  /** Event sequence. */
  Sequence: string;
  /** Run id. */
  RunID: string;
  /** Run phase after the change. */
  Phase: RunPhase;
  /** Run result after the change. */
  Result: RunResult;
}

/**
 * Body of `POST /runs`: a new run (`run_config_tasks`, `group`, ...) or, with `run_id`, a
 * restart of an existing run. Go clients send `null` for empty maps and lists.
 */
export interface RunCreateRequest {
  /** New run: task id → task. */
  run_config_tasks?: Record<string, RunConfigTask> | null;
  /** New run: name. */
  name?: string;
  /** New run: group (absolute, non-empty). */
  group?: string;
  /** New run: setup errors (the run is created in phase `setuperror`). */
  setup_errors?: string[] | null;
  /** New run: static environment. */
  static_environment?: Record<string, string> | null;
  /** New run: cache group. */
  cache_group?: string;
  /** Restart: the run to recreate. */
  run_id?: string;
  /** Restart: from scratch (else from the failed tasks). */
  from_start?: boolean;
  /** Restart: unused by Agola v0.7. */
  reset_tasks?: string[] | null;
  /** Environment (new runs and restarts). */
  environment?: Record<string, string> | null;
  /** Annotations (new runs and restarts). */
  annotations?: Record<string, string> | null;
  /** Change groups update token (Agola's misspelled JSON name). */
  changeup_update_tokens?: string;
}

/** Action of `PUT /runs/{runid}/actions`. */
export type RunActionType = 'changephase' | 'stop';

/** Every {@link RunActionType}. */
export const RUN_ACTION_TYPES: readonly RunActionType[] = ['changephase', 'stop'];

/** Body of `PUT /runs/{runid}/actions`. */
export interface RunActionsRequest {
  /** The action. */
  action_type: RunActionType;
  /** `changephase`: the new phase (`running` from queued, `cancelled` from queued). */
  phase?: RunPhase;
  /** Change groups update token. */
  change_groups_update_tokens?: string;
}

/** Action of `PUT /runs/{runid}/tasks/{taskid}/actions`. */
export type RunTaskActionType = 'setannotations' | 'approve';

/** Every {@link RunTaskActionType}. */
export const RUN_TASK_ACTION_TYPES: readonly RunTaskActionType[] = ['setannotations', 'approve'];

/** Body of `PUT /runs/{runid}/tasks/{taskid}/actions`. */
export interface RunTaskActionsRequest {
  /** The action. */
  action_type: RunTaskActionType;
  /** `setannotations`: the task's new annotations. */
  annotations?: Record<string, string>;
  /** Change groups update token. */
  change_groups_update_tokens?: string;
}

/** Answer of `GET /runs/{runid}` and `POST /runs`. */
export interface RunResponse {
  /** The run. */
  run: Run;
  /** Its run config. */
  run_config: RunConfig;
  /** Token for a later conditional update. */
  change_groups_update_tokens: string;
}

/** Answer of `GET /runs` and `GET /runs/group/{group}`. */
export interface GetRunsResponse {
  /** The runs. */
  runs: Run[];
  /** Token for a later conditional update. */
  change_groups_update_tokens: string;
}

/**
 * The run annotation (an Agola-TS addition; Agola v0.7 marks nothing) naming the environment
 * variables whose values came from secrets: a JSON array of variable names, e.g.
 * `["DEPLOY_TOKEN","NPM_TOKEN"]`, never values. The gateway sets it when it resolves a run's
 * variables; the executor masks the values of these variables (task, container and step
 * environments) in every log of every task of the run.
 */
export const SECRET_ENV_ANNOTATION = 'agola-ts.io/secret-environment';

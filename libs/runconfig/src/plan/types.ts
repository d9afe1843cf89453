import type { Arch, DependCondition, RegistryAuthType, SaveContent } from '../types.js';

/** A container of a run config task, with its environment resolved. */
export interface RunConfigContainer {
  /** Image reference. */
  image: string;
  /** Resolved environment. */
  environment: Record<string, string>;
  /** User ('' for the image default). */
  user: string;
  /** Privileged container. */
  privileged: boolean;
  /** Entrypoint ('' for the toolbox sleeper). */
  entrypoint: string;
  /** Tmpfs volumes; `size` in bytes (0: the runtime's default). */
  volumes: { path: string; tmpfs: { size: number } }[];
}

/** Resolved registry credentials. */
export interface RunConfigRegistryAuth {
  /** `basic` or `encodedauth`. */
  type: RegistryAuthType;
  /** User name. */
  username: string;
  /** Password. */
  password: string;
  /** Encoded auth string. */
  auth: string;
}

/** A `run` step of a run config task (clone steps become run steps). */
export interface RunConfigRunStep {
  /** Step type. */
  type: 'run';
  /** Step name. */
  name: string;
  /** Script to run. */
  command: string;
  /** Resolved step environment. */
  environment: Record<string, string>;
  /** Working dir ('' for the task's). */
  working_dir: string;
  /** Shell ('' for the task's). */
  shell: string;
  /** Allocate a tty. */
  tty: boolean;
}

/** A `save_to_workspace` step of a run config task. */
export interface RunConfigSaveToWorkspaceStep {
  /** Step type. */
  type: 'save_to_workspace';
  /** Step name. */
  name: string;
  /** What to save. */
  contents: SaveContent[];
}

/** A `restore_workspace` step of a run config task. */
export interface RunConfigRestoreWorkspaceStep {
  /** Step type. */
  type: 'restore_workspace';
  /** Step name. */
  name: string;
  /** Where to restore. */
  dest_dir: string;
}

/** A `save_cache` step of a run config task. */
export interface RunConfigSaveCacheStep {
  /** Step type. */
  type: 'save_cache';
  /** Step name. */
  name: string;
  /** Key template, rendered by the executor ({@link renderCacheKey}). */
  key: string;
  /** What to save. */
  contents: SaveContent[];
}

/** A `restore_cache` step of a run config task. */
export interface RunConfigRestoreCacheStep {
  /** Step type. */
  type: 'restore_cache';
  /** Step name. */
  name: string;
  /** Key templates, tried in order as prefixes. */
  keys: string[];
  /** Where to restore. */
  dest_dir: string;
}

/** Any step of a run config task. */
export type RunConfigStep =
  | RunConfigRunStep
  | RunConfigSaveToWorkspaceStep
  | RunConfigRestoreWorkspaceStep
  | RunConfigSaveCacheStep
  | RunConfigRestoreCacheStep;

/** A dependency of a run config task, by parent task id. */
export interface RunConfigTaskDepend {
  /** Parent task id. */
  task_id: string;
  /** Conditions (empty: on_success). */
  conditions: DependCondition[];
}

/**
 * A task as the runservice stores it in a run config (Agola's `RunConfigTask`, same JSON
 * field names): ids instead of names in `depends`, everything resolved.
 */
export interface RunConfigTask {
  /** Task id (a UUID). */
  id: string;
  /** Task name. */
  name: string;
  /** 0 for tasks without parents, else 1 + the highest parent level. */
  level: number;
  /** Parent task id → dependency. */
  depends: Record<string, RunConfigTaskDepend>;
  /** Where the task runs. */
  runtime: { type: 'pod'; arch?: Arch; containers: RunConfigContainer[] };
  /** Resolved task environment. */
  environment: Record<string, string>;
  /** Working dir. */
  working_dir: string;
  /** Shell. */
  shell: string;
  /** User ('' for container 0's). */
  user: string;
  /** Steps. */
  steps: RunConfigStep[];
  /** A failure does not fail the run. */
  ignore_failure: boolean;
  /** Waits for approval before starting. */
  needs_approval: boolean;
  /** Skipped at creation because its `when` does not match. */
  skip: boolean;
  /** Merged registry credentials (config, then run, then task level). */
  docker_registries_auth: Record<string, RunConfigRegistryAuth>;
}

/** A run to create: what the gateway sends to the runservice (`POST /runs`). */
export interface PlannedRun {
  /** Run name (`Setup Error` for a config that failed to parse). */
  name: string;
  /** Setup errors; a run with setup errors has no tasks and never runs. */
  setup_errors: string[];
  /** The static environment, overlaid on every task's environment. */
  static_environment: Record<string, string>;
  /** Task id → task. */
  tasks: Record<string, RunConfigTask>;
}

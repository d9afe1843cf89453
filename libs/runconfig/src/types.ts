/**
 * The parsed and validated form of a run config file. Field names keep the file's own
 * snake_case names so a config can be reasoned about next to the YAML it came from.
 */

/** A value that is either written in the file or taken from a project variable at run creation. */
export type ConfigValue =
  { type: 'string'; value: string } | { type: 'from_variable'; variable: string };

/** The CPU architectures a task may ask for. */
export type Arch = '386' | 'amd64' | 'arm' | 'arm64';

/** How a registry is authenticated: user and password, or a ready-made auth string. */
export type RegistryAuthType = 'basic' | 'encodedauth';

/** Credentials for one container registry. */
export interface RegistryAuth {
  /** `basic` (the default) or `encodedauth`. */
  type: RegistryAuthType;
  /** User name (basic auth). */
  username?: ConfigValue;
  /** Password (basic auth). */
  password?: ConfigValue;
  /** The encoded auth string (encodedauth). */
  auth?: ConfigValue;
}

/** Registry host → credentials. */
export type RegistriesAuth = Record<string, RegistryAuth>;

/** A tmpfs volume mounted into a container. */
export interface Volume {
  /** Mount path inside the container. */
  path: string;
  /** The tmpfs; `size` is a Kubernetes quantity such as `1Gi` (no size: the runtime's default). */
  tmpfs: { size?: string };
}

/** One container of a task's pod. Container 0 runs the steps; the others are services. */
export interface Container {
  /** Image reference. */
  image: string;
  /** Container environment. */
  environment: Record<string, ConfigValue>;
  /** User the container runs as. */
  user?: string;
  /** Whether the container is privileged. */
  privileged: boolean;
  /** Entrypoint, split on spaces by the executor. */
  entrypoint?: string;
  /** Tmpfs volumes. */
  volumes: Volume[];
}

/** Where a task runs. */
export interface Runtime {
  /** Only `pod`. */
  type: 'pod';
  /** Requested architecture, if any. */
  arch?: Arch;
  /** At least one container. */
  containers: Container[];
}

/** When a dependent task may start, depending on how its parent ended. */
export type DependCondition = 'on_success' | 'on_failure' | 'on_skipped';

/** A dependency of a task on another task of the same run. */
export interface Depend {
  /** Name of the parent task. */
  task: string;
  /** Conditions; empty means `on_success`. */
  conditions: DependCondition[];
}

/** One condition of a `when`: an exact string or a regular expression (`/re/` or `#re#`). */
export interface WhenCondition {
  /** `simple` for an exact match, `regexp` for a regular expression search. */
  type: 'simple' | 'regexp';
  /** The exact string, or the regular expression source without its delimiters. */
  match: string;
}

/** Include and exclude conditions for one of branch, tag or ref. */
export interface WhenConditions {
  /** Any match here includes. */
  include: WhenCondition[];
  /** Any match here excludes, after the includes. */
  exclude: WhenCondition[];
}

/** A `when` block: conditions on the branch, the tag and the full ref. */
export interface When {
  /** Applies when the ref is a branch. */
  branch?: WhenConditions;
  /** Applies when the ref is a tag. */
  tag?: WhenConditions;
  /** Applies to the full ref, always. */
  ref?: WhenConditions;
}

/** A directory (or globs inside it) to save into the workspace or a cache. */
export interface SaveContent {
  /** Directory to read from. */
  source_dir: string;
  /** Directory to restore into, relative to the restore step's `dest_dir`. */
  dest_dir: string;
  /** Doublestar globs relative to `source_dir`. */
  paths: string[];
}

/** Clones the repository (turned into a `run` step at run creation). */
export interface CloneStep {
  /** Step type. */
  type: 'clone';
  /** Optional step name. */
  name?: string;
  /** Shallow clone depth (≥ 1). */
  depth?: number;
  /** Also clone submodules. */
  recurse_submodules: boolean;
}

/** Runs a command. */
export interface RunStep {
  /** Step type. */
  type: 'run';
  /** Step name; defaults to the command (at most 100 characters) for one-line commands. */
  name: string;
  /** The command, given to the shell as a script file. */
  command: string;
  /** Extra environment for this step. */
  environment: Record<string, ConfigValue>;
  /** Working dir of this step (default: the task's). */
  working_dir?: string;
  /** Shell of this step (default: the task's). */
  shell?: string;
  /** Allocate a tty (default true). */
  tty: boolean;
}

/** Archives files into the run's workspace for later tasks. */
export interface SaveToWorkspaceStep {
  /** Step type. */
  type: 'save_to_workspace';
  /** Optional step name. */
  name?: string;
  /** What to save. */
  contents: SaveContent[];
}

/** Restores the workspaces saved by the task's ancestors. */
export interface RestoreWorkspaceStep {
  /** Step type. */
  type: 'restore_workspace';
  /** Optional step name. */
  name?: string;
  /** Where to restore. */
  dest_dir: string;
}

/** Saves a cache under a key rendered from a template. */
export interface SaveCacheStep {
  /** Step type. */
  type: 'save_cache';
  /** Optional step name. */
  name?: string;
  /** Key template (`deps-{{ md5sum "go.sum" }}`). */
  key: string;
  /** What to save; paths default to `**`. */
  contents: SaveContent[];
}

/** Restores the first cache whose key starts with one of the rendered key templates. */
export interface RestoreCacheStep {
  /** Step type. */
  type: 'restore_cache';
  /** Optional step name. */
  name?: string;
  /** Key templates, tried in order as prefixes. */
  keys: string[];
  /** Where to restore. */
  dest_dir: string;
}

/** Any step of a task. */
export type Step =
  | CloneStep
  | RunStep
  | SaveToWorkspaceStep
  | RestoreWorkspaceStep
  | SaveCacheStep
  | RestoreCacheStep;

/** The step types a config may use. */
export type StepType = Step['type'];

/** A task of a run. */
export interface Task {
  /** Unique name in the run. */
  name: string;
  /** Where it runs. */
  runtime: Runtime;
  /** Task environment. */
  environment: Record<string, ConfigValue>;
  /** Working directory (default `~/project`). */
  working_dir: string;
  /** Shell for run steps (default `/bin/sh -e`). */
  shell: string;
  /** User the steps run as (default: container 0's user). */
  user?: string;
  /** Steps, in order. */
  steps: Step[];
  /** Parent tasks. */
  depends: Depend[];
  /** A failure of this task does not fail the run. */
  ignore_failure: boolean;
  /** The task waits for a manual approval. */
  approval: boolean;
  /** The task is skipped when this does not match the ref. */
  when?: When;
  /** Registry credentials at task level. */
  docker_registries_auth: RegistriesAuth;
}

/** A run: a named graph of tasks. */
export interface Run {
  /** Unique name in the config. */
  name: string;
  /** Tasks. */
  tasks: Task[];
  /** The run is created only when this matches the ref. */
  when?: When;
  /** Registry credentials at run level. */
  docker_registries_auth: RegistriesAuth;
}

/** A whole config file. */
export interface Config {
  /** At least one run. */
  runs: Run[];
  /** Registry credentials at config level. */
  docker_registries_auth: RegistriesAuth;
}

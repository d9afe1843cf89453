import type { Readable, Writable } from 'node:stream';

/** Cancellation, as on every I/O call of Agola-TS. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/** The pino-compatible logger a driver writes to (nothing is logged without one). */
export interface DriverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A CPU architecture as Agola names it (Go's GOARCH). */
export type Arch = '386' | 'amd64' | 'arm' | 'arm64';

/** Label keys every driver sets on what it creates, as in Agola. */
export const POD_LABELS = {
  /** Always `true`: the object belongs to Agola. */
  agola: 'agola.io/agola',
  executorId: 'agola.io/executorid',
  podId: 'agola.io/podid',
  taskId: 'agola.io/taskid',
  containerIndex: 'agola.io/containerindex',
} as const;

/** Credentials to pull images from one registry (from the run config's `docker_registries_auth`). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64 of `username:password` (the `encodedauth` type). */
  auth?: string;
}

/** A volume of a container; only tmpfs volumes exist (as in Agola's run config). */
export interface VolumeConfig {
  /** Absolute path inside the container. */
  path: string;
  /** A memory-backed filesystem; `sizeBytes` 0 or absent means the runtime's default size. */
  tmpfs: { sizeBytes?: number };
}

/** One container of a pod. Container 0 is the one steps run in; the others are services. */
export interface ContainerConfig {
  image: string;
  /** Command the container runs; by default one that sleeps until the pod is stopped. */
  entrypoint?: string[];
  env?: Record<string, string>;
  /** User (name or uid[:gid]) the container and, by default, the steps run as. */
  user?: string;
  /** Runs privileged: refused unless the driver allows it. */
  privileged?: boolean;
  volumes?: VolumeConfig[];
}

/** What a pod is made of. */
export interface PodConfig {
  /** Unique id of the pod (a random UUID is a good one). */
  id: string;
  /** The executor task the pod runs. */
  taskId: string;
  containers: ContainerConfig[];
  /** Registry credentials by registry host (`index.docker.io`, `registry.example.com:5000`). */
  registryAuth?: Record<string, RegistryAuth>;
  /** Extra labels (the `agola.io/*` ones are always set by the driver and win). */
  labels?: Record<string, string>;
}

/** Options of {@link Driver.newPod}. */
export interface NewPodOptions extends SignalOptions {
  /** The task's setup log: the driver says here what it does (pulls, notes, failures). */
  out?: Writable;
}

/** What to run in container 0 of a pod. */
export interface ExecConfig {
  /** argv: `cmd[0]` is looked up on the container's PATH. */
  cmd: string[];
  /** The whole environment of the process (the container's own env is the base for docker). */
  env?: Record<string, string>;
  /** Working directory (absolute; it must exist). @default the container's (docker) or the pod dir (local) */
  workingDir?: string;
  /** User (name or uid[:gid]). @default the container's user */
  user?: string;
  /** Allocates a pseudo terminal: stdout and stderr arrive merged on `stdout`, with `\r\n`. */
  tty?: boolean;
  /** Gives {@link ContainerExec.stdin}; the process sees EOF when it is ended. */
  attachStdin?: boolean;
  stdout?: Writable;
  stderr?: Writable;
}

/** A running exec. */
export interface ContainerExec {
  /** Present when `attachStdin` was set. End it to send EOF. */
  readonly stdin: Writable | undefined;
  /**
   * Resolves with the exit code once the process has exited and all its output has been
   * written to the given streams. A process killed by a signal gives `128 + signal number`.
   * @throws `ERR_EXECUTOR_EXEC_START` when the engine could only tell after the start that
   *   the command or the working dir is missing (the docker driver).
   */
  wait(options?: SignalOptions): Promise<number>;
}

/** A pod created by a driver: a main container plus service containers sharing its network. */
export interface Pod {
  readonly id: string;
  readonly taskId: string;
  readonly executorId: string;
  /** The labels of the pod (`agola.io/*` plus the extra ones). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Starts a process in container 0.
   * @throws `ERR_EXECUTOR_EXEC_START` when the command cannot be started (a missing command
   *   or working dir; some engines report it from {@link ContainerExec.wait} instead),
   *   `ERR_EXECUTOR_POD_NOT_FOUND` when the pod is gone.
   */
  exec(config: ExecConfig, options?: SignalOptions): Promise<ContainerExec>;
  /**
   * Extracts a tar stream into `dir` of container 0 (created if missing, as `user` when
   * given, so that user can write there). Entry names are relative to `dir`; entries leaving
   * it are refused. Entries keep the owner their headers give (docker; the local driver writes
   * as the executor's user).
   * @throws `ERR_EXECUTOR_ARCHIVE_REJECTED` for an entry outside `dir`.
   */
  copyIn(dir: string, tar: Readable, options?: CopyInOptions): Promise<void>;
  /**
   * A tar stream of `path` in container 0, like the Docker API's archive endpoint: entries
   * are named `<basename(path)>/...` (a file is one entry named after it).
   * @throws `ERR_EXECUTOR_PATH_NOT_FOUND` when `path` does not exist.
   */
  copyOut(path: string, options?: SignalOptions): Promise<Readable>;
  /**
   * Optional fast path: `$HOME` and the default working dir a process of container 0 would
   * see, with `env` and as `user`, known without starting a process; `undefined` when they can
   * only be asked from a process (then the caller runs one). The local driver answers without
   * a user, `HOME` or `PWD` in `env`.
   */
  knownDirs?(
    env: Readonly<Record<string, string>>,
    user?: string,
  ): Promise<{ home: string; cwd: string } | undefined>;
  /**
   * Optional fast path: creates `dir` (absolute) and its parents in container 0 as `mkdir -p`
   * run as `user` would, without starting a process. Resolves `false` when it cannot (then the
   * caller runs `mkdir -p`); rejects as `mkdir -p` would fail.
   */
  makeDirs?(dir: string, user?: string, options?: SignalOptions): Promise<boolean>;
  /** Stops every container (and kills every running exec); idempotent. */
  stop(options?: SignalOptions): Promise<void>;
  /** Stops and deletes the pod with everything it created; idempotent. */
  remove(options?: SignalOptions): Promise<void>;
}

/** Options of {@link Pod.copyIn}. */
export interface CopyInOptions extends SignalOptions {
  /** User that creates the missing dirs of the destination. @default the container's user */
  user?: string;
}

/** Options of {@link Driver.getPods}. */
export interface GetPodsOptions extends SignalOptions {
  /**
   * Also the pods of other executors (on the same engine or pods dir), so pods whose executor
   * is gone can be cleaned. @default false
   */
  all?: boolean;
}

/**
 * What the executor runs tasks with: Docker, Kubernetes or plain processes. A driver
 * creates pods, finds its own pods again by their `agola.io/*` labels (after a restart too),
 * and tells the executor its group, the executors of the group and its archs.
 */
export interface Driver {
  /** The driver type (`local`, `docker`). */
  readonly type: string;
  /** The executor this driver works for. */
  readonly executorId: string;
  /** Prepares the driver (checks the engine is reachable, creates dirs). */
  setup(options?: SignalOptions): Promise<void>;
  /**
   * Creates and starts a pod. On failure nothing of it is left behind.
   * @throws `ERR_EXECUTOR_IMAGE_NOT_FOUND`, `ERR_EXECUTOR_POD_START`,
   *   `ERR_EXECUTOR_INVALID_CONFIG` (privileged not allowed, no containers).
   */
  newPod(config: PodConfig, options?: NewPodOptions): Promise<Pod>;
  /** The pods this executor (or, with `all`, its group) created and did not remove yet. */
  getPods(options?: GetPodsOptions): Promise<Pod[]>;
  /** The executor group id: executors of a group see each other's pods. */
  executorGroup(options?: SignalOptions): Promise<string>;
  /** The ids of the live executors of the group. */
  getExecutors(options?: SignalOptions): Promise<string[]>;
  /** The archs tasks can run on. */
  archs(options?: SignalOptions): Promise<Arch[]>;
  /** Releases the driver's resources (connections); pods are left as they are. */
  close(): Promise<void>;
}

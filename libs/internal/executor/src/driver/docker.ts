import { Duplex, PassThrough, Readable, type Writable } from 'node:stream';
import Docker from 'dockerode';
import { newError, wrap } from '@agola-ts/errors';
import { ExecutorErrorCodes } from '../codes.js';
import { sanitizeTar } from '../tar.js';
import { engineArch, goArch, podLabels, silentLogger, writeLine } from './common.js';
import {
  POD_LABELS,
  type Arch,
  type ContainerExec,
  type CopyInOptions,
  type Driver,
  type DriverLogger,
  type ExecConfig,
  type GetPodsOptions,
  type NewPodOptions,
  type Pod,
  type PodConfig,
  type RegistryAuth,
  type SignalOptions,
} from './types.js';

/** Configuration of the docker driver (see {@link createDockerDriver}). */
export interface DockerDriverConfig {
  type: 'docker';
  /** The executor this driver works for. */
  executorId: string;
  /** Unix socket of the Docker Engine API (or podman's). @default `/var/run/docker.sock` */
  socketPath?: string;
  /** Allows containers with `privileged: true`. @default false */
  allowPrivileged?: boolean;
  /**
   * Network of a pod's main container (the service containers join it). @default `bridge`
   * (`none` isolates the pod from every network but its own loopback)
   */
  networkMode?: string;
  logger?: DriverLogger;
}

/** What dockerode errors carry. */
interface EngineError {
  statusCode?: number;
  json?: { message?: string } | null;
  message?: string;
}

function status(err: unknown): number | undefined {
  return (err as EngineError | undefined)?.statusCode;
}

function engineMessage(err: unknown): string {
  const e = err as EngineError | undefined;
  return e?.json?.message ?? e?.message ?? String(err);
}

// Keeps container 0 alive without a helper binary: any image with a shell and `sleep` works.
const SLEEPER = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** Registry host of an image reference, as Docker resolves it. */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'index.docker.io';
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return first;
  return 'index.docker.io';
}

/** The tag of an image reference (`latest` when there is none; `''` for a digest). */
export function tagOf(image: string): string {
  if (image.includes('@')) return '';
  const name = image.slice(image.lastIndexOf('/') + 1);
  const colon = name.indexOf(':');
  return colon < 0 ? 'latest' : name.slice(colon + 1);
}

/** The `authconfig` of a pull for one registry (an `encodedauth` is decoded). */
export function authConfig(auth: RegistryAuth | undefined, registry: string) {
  if (!auth) return undefined;
  let { username, password } = auth;
  if (auth.auth && (!username || !password)) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    username = i < 0 ? decoded : decoded.slice(0, i);
    password = i < 0 ? '' : decoded.slice(i + 1);
  }
  return { username: username ?? '', password: password ?? '', serveraddress: registry };
}

/**
 * What the OCI runtime writes when an exec cannot start (the engine then reports exit code
 * 126 or 127, as for a shell's "not found"): the command or the working dir is missing.
 */
const START_FAILURE =
  /OCI runtime (?:exec failed|attempted to invoke)|exec failed: unable to start/;

class DockerExec implements ContainerExec {
  readonly stdin: Writable | undefined;
  private readonly exited: Promise<number>;

  constructor(
    exec: Docker.Exec,
    stream: Duplex,
    stdinAttached: boolean,
    done: Promise<void>,
    /** The first bytes of the process's stderr (or tty output). */
    head: () => string,
    cmd: string,
  ) {
    this.stdin = stdinAttached ? stream : undefined;
    this.exited = done.then(async () => {
      // The exec may still be marked running for a moment after its stream ended.
      let code = -1;
      for (let i = 0; i < 100; i++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
          code = info.ExitCode;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      if (code === 126 || code === 127) {
        const text = head();
        if (START_FAILURE.test(text)) {
          const line = text.split('\n').find((l) => START_FAILURE.test(l)) ?? text;
          throw newError(`cannot start ${JSON.stringify(cmd)}: ${line.trim()}`, {
            code: ExecutorErrorCodes.ExecStart,
          });
        }
      }
      return code;
    });
    this.exited.catch(() => undefined); // reported by wait()
  }

  wait(options: SignalOptions = {}): Promise<number> {
    const { signal } = options;
    if (!signal) return this.exited;
    return new Promise((res, rej) => {
      const onAbort = () => rej(wrap(signal.reason, 'waiting for an exec'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.exited.then(
        (c) => {
          signal.removeEventListener('abort', onAbort);
          res(c);
        },
        (e: unknown) => rej(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }
}

class DockerPod implements Pod {
  constructor(
    private readonly docker: Docker,
    readonly id: string,
    readonly taskId: string,
    readonly executorId: string,
    readonly labels: Readonly<Record<string, string>>,
    /** Container ids by index (0 = main). */
    private readonly containerIds: string[],
  ) {}

  private get main(): Docker.Container {
    return this.docker.getContainer(this.containerIds[0] as string);
  }

  private notFound(err: unknown, what: string): never {
    if (status(err) === 404) {
      throw wrap(err, `pod ${this.id} does not exist (${what})`, {
        code: ExecutorErrorCodes.PodNotFound,
      });
    }
    throw wrap(err, `${what} in pod ${this.id}`, {
      code: ExecutorErrorCodes.Engine,
    });
  }

  async exec(config: ExecConfig, options: SignalOptions = {}): Promise<ContainerExec> {
    options.signal?.throwIfAborted();
    if (config.cmd.length === 0) {
      throw newError('exec without a command', { code: ExecutorErrorCodes.ExecStart });
    }
    let exec: Docker.Exec;
    try {
      exec = await this.main.exec({
        Cmd: config.cmd,
        Env: Object.entries(config.env ?? {}).map(([k, v]) => `${k}=${v}`),
        ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
        ...(config.user ? { User: config.user } : {}),
        Tty: config.tty === true,
        AttachStdin: config.attachStdin === true,
        AttachStdout: true,
        AttachStderr: true,
      });
    } catch (err) {
      this.notFound(err, 'creating an exec');
    }
    let stream: Duplex;
    try {
      stream = (await exec.start({
        hijack: true,
        stdin: config.attachStdin === true,
        Tty: config.tty === true,
      })) as Duplex;
    } catch (err) {
      throw wrap(err, `cannot start ${JSON.stringify(config.cmd[0])}`, {
        code: ExecutorErrorCodes.ExecStart,
      });
    }
    const stdout = config.stdout;
    const stderr = config.stderr;
    let head = '';
    const keepHead = (c: Buffer) => {
      if (head.length < 4096) head += c.toString('utf8', 0, Math.min(c.length, 4096));
    };
    const done = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    if (config.tty) {
      stream.on('data', (c: Buffer) => {
        keepHead(c);
        stdout?.write(c);
      });
    } else {
      const sink = (to: Writable | undefined, keep: boolean) => {
        const pt = new PassThrough();
        pt.on('data', (c: Buffer) => {
          if (keep) keepHead(c);
          to?.write(c);
        });
        return pt;
      };
      this.docker.modem.demuxStream(stream, sink(stdout, false), sink(stderr, true));
    }
    if (!config.attachStdin) stream.end();
    return new DockerExec(
      exec,
      stream,
      config.attachStdin === true,
      done,
      () => head,
      config.cmd[0] as string,
    );
  }

  async copyIn(dir: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
    const mk = await this.exec(
      { cmd: ['mkdir', '-p', dir], ...(options.user ? { user: options.user } : {}) },
      options,
    );
    const code = await mk.wait(options);
    if (code !== 0) {
      throw newError(`cannot create ${JSON.stringify(dir)} in pod ${this.id} (exit ${code})`, {
        code: ExecutorErrorCodes.PathNotFound,
      });
    }
    const checked = sanitizeTar(tar);
    // A rejected entry must abort the upload: a piped request would otherwise never end.
    const abort = new AbortController();
    let rejected: unknown;
    checked.on('error', (err) => {
      rejected = err;
      abort.abort(err);
    });
    const onAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.main.putArchive(checked, { path: dir, abortSignal: abort.signal });
      (res as unknown as Readable | undefined)?.resume?.();
    } catch (err) {
      checked.destroy();
      if (rejected) throw wrap(rejected, `copying into ${JSON.stringify(dir)}`);
      this.notFound(err, `copying into ${JSON.stringify(dir)}`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (rejected) throw wrap(rejected, `copying into ${JSON.stringify(dir)}`);
  }

  async copyOut(path: string, options: SignalOptions = {}): Promise<Readable> {
    try {
      const stream = await this.main.getArchive({ path, abortSignal: options.signal });
      return stream instanceof Readable ? stream : Readable.from(stream);
    } catch (err) {
      if (status(err) === 404) {
        // 404 is both "no such container" and "no such path".
        const exists = await this.main.inspect().then(
          () => true,
          () => false,
        );
        if (exists) {
          throw wrap(err, `path ${JSON.stringify(path)} not found in pod ${this.id}`, {
            code: ExecutorErrorCodes.PathNotFound,
          });
        }
      }
      this.notFound(err, `copying ${JSON.stringify(path)} out`);
    }
  }

  async stop(): Promise<void> {
    // Killing the containers kills every exec running in them. Service containers first,
    // as they live in the main container's network namespace.
    for (const id of [...this.containerIds].reverse()) {
      await this.docker
        .getContainer(id)
        .kill({ signal: 'SIGKILL' })
        .catch((err: unknown) => {
          if (status(err) !== 404 && status(err) !== 409 && status(err) !== 304) throw err;
        });
    }
  }

  async remove(): Promise<void> {
    for (const id of [...this.containerIds].reverse()) {
      await this.docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch((err: unknown) => {
          if (status(err) !== 404) throw wrap(err, `removing container ${id}`);
        });
    }
  }
}

class DockerDriver implements Driver {
  readonly type = 'docker';
  readonly executorId: string;
  private readonly docker: Docker;
  private readonly log: DriverLogger;

  constructor(private readonly config: DockerDriverConfig) {
    this.executorId = config.executorId;
    this.docker = new Docker({ socketPath: config.socketPath ?? '/var/run/docker.sock' });
    this.log = config.logger ?? silentLogger;
  }

  async setup(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw wrap(err, `the Docker API is not reachable`, {
        code: ExecutorErrorCodes.Engine,
      });
    }
  }

  private async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (status(err) === 404) return false;
      throw wrap(err, `inspecting image ${image}`, {
        code: ExecutorErrorCodes.Engine,
      });
    }
  }

  /** Pulls when the tag is `latest` or the image is missing (Agola's rule). */
  private async ensureImage(image: string, config: PodConfig, options: NewPodOptions) {
    const exists = await this.imageExists(image);
    if (exists && tagOf(image) !== 'latest') return;
    const registry = registryOf(image);
    const auth = config.registryAuth;
    const creds = auth && Object.hasOwn(auth, registry) ? auth[registry] : undefined;
    writeLine(options.out, `Pulling image ${image}`);
    try {
      const stream = await this.docker.pull(image, { authconfig: authConfig(creds, registry) });
      // A failed pull can still answer 200: the error is an event of the progress stream.
      let failure: string | undefined;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null) => (err ? reject(err) : resolve()),
          (event: { error?: string; errorDetail?: { message?: string } }) => {
            failure ??= event.errorDetail?.message ?? event.error;
          },
        );
      });
      if (failure !== undefined) throw new Error(failure);
    } catch (err) {
      if (exists) {
        writeLine(
          options.out,
          `Pull of ${image} failed (${engineMessage(err)}); using the local image`,
        );
        return;
      }
      writeLine(options.out, `Image ${image} not found: ${engineMessage(err)}`);
      throw wrap(err, `image ${image} not found and it could not be pulled`, {
        code: ExecutorErrorCodes.ImageNotFound,
      });
    }
  }

  async newPod(config: PodConfig, options: NewPodOptions = {}): Promise<Pod> {
    options.signal?.throwIfAborted();
    if (config.containers.length === 0) {
      throw newError('a pod needs at least one container', {
        code: ExecutorErrorCodes.InvalidConfig,
      });
    }
    if (!this.config.allowPrivileged && config.containers.some((c) => c.privileged)) {
      writeLine(options.out, 'containers with privileged: true are not allowed on this executor');
      throw newError('privileged containers are not allowed on this executor', {
        code: ExecutorErrorCodes.InvalidConfig,
      });
    }
    for (const c of config.containers) await this.ensureImage(c.image, config, options);

    const labels = podLabels(config, this.executorId);
    const ids: string[] = [];
    try {
      writeLine(options.out, 'Starting pod.');
      for (const [i, c] of config.containers.entries()) {
        options.signal?.throwIfAborted();
        const tmpfs: Record<string, string> = {};
        for (const v of c.volumes ?? []) {
          tmpfs[v.path] = v.tmpfs.sizeBytes ? `size=${v.tmpfs.sizeBytes}` : '';
        }
        const container = await this.docker.createContainer({
          name: `agola-${config.id}-${i}`,
          Image: c.image,
          ...(c.entrypoint?.length
            ? { Entrypoint: c.entrypoint, Cmd: [] }
            : i === 0
              ? { Entrypoint: SLEEPER, Cmd: [] }
              : {}),
          Env: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`),
          ...(c.user ? { User: c.user } : {}),
          Labels: { ...labels, [POD_LABELS.containerIndex]: String(i) },
          HostConfig: {
            Privileged: c.privileged === true,
            Tmpfs: tmpfs,
            NetworkMode:
              i === 0 ? (this.config.networkMode ?? 'bridge') : `container:${ids[0] as string}`,
          },
        });
        ids.push(container.id);
        await container.start();
      }
      writeLine(options.out, 'Pod started.');
    } catch (err) {
      writeLine(options.out, `Pod failed to start: ${engineMessage(err)}`);
      const pod = new DockerPod(
        this.docker,
        config.id,
        config.taskId,
        this.executorId,
        labels,
        ids,
      );
      await pod.remove().catch(() => undefined);
      if (options.signal?.aborted) throw wrap(err, `starting pod ${config.id}`);
      throw wrap(err, `starting pod ${config.id}`, {
        code: ExecutorErrorCodes.PodStart,
      });
    }
    this.log.debug({ podId: config.id, taskId: config.taskId }, 'pod created');
    return new DockerPod(this.docker, config.id, config.taskId, this.executorId, labels, ids);
  }

  async getPods(options: GetPodsOptions = {}): Promise<Pod[]> {
    const filters = [`${POD_LABELS.agola}=true`];
    // With `all`, the pods of every executor on this engine (the pods cleaner removes those
    // whose executor is gone), as Agola's docker driver does.
    if (!options.all) filters.push(`${POD_LABELS.executorId}=${this.executorId}`);
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({ all: true, filters: { label: filters } });
    } catch (err) {
      throw wrap(err, `listing containers`, {
        code: ExecutorErrorCodes.Engine,
      });
    }
    const byPod = new Map<string, Docker.ContainerInfo[]>();
    for (const c of list) {
      const podId = c.Labels[POD_LABELS.podId];
      if (!podId) continue;
      byPod.set(podId, [...(byPod.get(podId) ?? []), c]);
    }
    const pods: Pod[] = [];
    for (const [podId, containers] of [...byPod].sort(([a], [b]) => a.localeCompare(b))) {
      containers.sort(
        (a, b) =>
          Number(a.Labels[POD_LABELS.containerIndex]) - Number(b.Labels[POD_LABELS.containerIndex]),
      );
      const first = containers[0] as Docker.ContainerInfo;
      const labels: Record<string, string> = { ...first.Labels };
      delete labels[POD_LABELS.containerIndex];
      pods.push(
        new DockerPod(
          this.docker,
          podId,
          first.Labels[POD_LABELS.taskId] ?? '',
          first.Labels[POD_LABELS.executorId] ?? '',
          labels,
          containers.map((c) => c.Id),
        ),
      );
    }
    return pods;
  }

  async executorGroup(): Promise<string> {
    return this.executorId;
  }

  async getExecutors(): Promise<string[]> {
    return [this.executorId];
  }

  async archs(): Promise<Arch[]> {
    try {
      const info = (await this.docker.info()) as { Architecture?: string };
      const arch = info.Architecture ? engineArch(info.Architecture) : undefined;
      return [arch ?? goArch(process.arch)];
    } catch (err) {
      throw wrap(err, `reading the engine info`, {
        code: ExecutorErrorCodes.Engine,
      });
    }
  }

  async close(): Promise<void> {
    // Nothing to release: every call is a fresh request or process.
  }
}

/**
 * The docker driver: pods of containers through the Docker Engine API (dockerode), on
 * Docker or podman's Docker-compatible socket. Container 0 sleeps (or runs its entrypoint)
 * and steps exec into it; service containers share its network (`container:<main>`). No
 * helper binary is copied into images: execs go through the API and files move through the
 * archive endpoints, so any image with a shell works. Images are pulled when the tag is
 * `latest` or the image is missing, with the registry's credentials. Privileged containers
 * only with `allowPrivileged`; tmpfs volumes with their size.
 *
 * @example
 * ```ts
 * const driver = createDockerDriver({ type: 'docker', executorId, socketPath: '/run/podman/podman.sock' });
 * await driver.setup();
 * ```
 */
export function createDockerDriver(config: DockerDriverConfig): Driver {
  return new DockerDriver(config);
}

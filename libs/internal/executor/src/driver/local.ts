import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  chown,
  mkdir,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { newError, wrap } from '@agola-ts/errors';
import { ExecutorErrorCodes } from '../codes.js';
import { extractTo, packPath } from '../tar.js';
import { goArch, podLabels, silentLogger, writeLine } from './common.js';
import type {
  Arch,
  ContainerExec,
  CopyInOptions,
  Driver,
  DriverLogger,
  ExecConfig,
  GetPodsOptions,
  NewPodOptions,
  Pod,
  PodConfig,
  SignalOptions,
} from './types.js';

const execFileP = promisify(execFile);

/** Configuration of the local driver (see {@link createLocalDriver}). */
export interface LocalDriverConfig {
  type: 'local';
  /** The executor this driver works for. */
  executorId: string;
  /** Directory holding one directory per pod (`<podsDir>/<podId>/`). */
  podsDir: string;
  /** Base `PATH` of every process. @default the executor's own PATH */
  path?: string;
  logger?: DriverLogger;
}

interface PodFile {
  id: string;
  taskId: string;
  executorId: string;
  labels: Record<string, string>;
}

/** Quotes one word for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function lookupUser(user: string): Promise<{ uid: number; gid: number }> {
  const [name, group] = user.split(':') as [string, string | undefined];
  const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  const id = async (flag: string, who: string) => {
    try {
      return Number((await execFileP('id', [flag, who])).stdout.trim());
    } catch (err) {
      throw wrap(err, `unknown user ${JSON.stringify(who)} on the executor host`, {
        code: ExecutorErrorCodes.ExecStart,
      });
    }
  };
  const uid = num(name) ?? (await id('-u', name));
  let gid: number;
  if (group !== undefined) {
    gid =
      num(group) ??
      Number((await execFileP('getent', ['group', group])).stdout.split(':')[2] ?? NaN);
  } else {
    gid = num(name) !== undefined ? uid : await id('-g', name);
  }
  return { uid, gid };
}

class LocalExec implements ContainerExec {
  readonly stdin: Writable | undefined;
  private readonly exited: Promise<number>;

  constructor(
    child: ChildProcess,
    private readonly onExit: () => Promise<void>,
    stdout: Writable | undefined,
    stderr: Writable | undefined,
    stdinAttached: boolean,
  ) {
    this.stdin = stdinAttached ? (child.stdin ?? undefined) : undefined;
    // Output is copied by hand (not piped) so the destination is never ended by us.
    const copy = (from: Readable | null, to: Writable | undefined) =>
      new Promise<void>((done) => {
        if (!from) return done();
        from.on('data', (c: Buffer) => to?.write(c));
        from.on('end', done);
        from.on('error', () => done());
      });
    const outputs = Promise.all([copy(child.stdout, stdout), copy(child.stderr, stderr)]);
    this.exited = new Promise<number>((resolveExit) => {
      child.on('close', (code, signal) => {
        const signum = signal ? (osConstants.signals[signal] ?? 0) : 0;
        resolveExit(code ?? 128 + signum);
      });
    }).then(async (code) => {
      await outputs;
      await this.onExit();
      return code;
    });
  }

  wait(options: SignalOptions = {}): Promise<number> {
    const { signal } = options;
    if (!signal) return this.exited;
    return new Promise((res, rej) => {
      const onAbort = () => rej(wrap(signal.reason, 'waiting for a process'));
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

class LocalPod implements Pod {
  readonly id: string;
  readonly taskId: string;
  readonly executorId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly home: string;
  private readonly pidsDir: string;

  constructor(
    private readonly driver: LocalDriver,
    readonly dir: string,
    meta: PodFile,
  ) {
    this.id = meta.id;
    this.taskId = meta.taskId;
    this.executorId = meta.executorId;
    this.labels = meta.labels;
    this.home = join(dir, 'home');
    this.pidsDir = join(dir, 'pids');
  }

  /** Relative paths are relative to the pod's home (the `~` of its processes). */
  private hostPath(p: string): string {
    return isAbsolute(p) ? p : resolve(this.home, p);
  }

  async exec(config: ExecConfig, options: SignalOptions = {}): Promise<ContainerExec> {
    options.signal?.throwIfAborted();
    const [cmd, ...args] = config.cmd;
    if (cmd === undefined) {
      throw newError('exec without a command', { code: ExecutorErrorCodes.ExecStart });
    }
    if (!(await stat(this.dir).catch(() => undefined))) {
      throw newError(`pod ${this.id} does not exist`, { code: ExecutorErrorCodes.PodNotFound });
    }
    const cwd = this.hostPath(config.workingDir ?? this.home);
    const cwdStat = await stat(cwd).catch(() => undefined);
    if (!cwdStat?.isDirectory()) {
      throw newError(`working directory ${JSON.stringify(cwd)} does not exist`, {
        code: ExecutorErrorCodes.ExecStart,
      });
    }
    const env: Record<string, string> = {
      PATH: this.driver.basePath,
      HOME: this.home,
      ...config.env,
    };
    let ids: { uid: number; gid: number } | undefined;
    if (config.user !== undefined && config.user !== '') {
      ids = await lookupUser(config.user);
      if (process.getuid?.() !== 0 && ids.uid !== process.getuid?.()) {
        throw newError(
          `the local driver runs as uid ${String(process.getuid?.())} and cannot run as user ${JSON.stringify(config.user)}`,
          { code: ExecutorErrorCodes.ExecStart },
        );
      }
    }
    // A tty comes from util-linux `script`: node has no pty of its own. `script -e` returns
    // the command's exit code; stdout and stderr arrive merged, as from a real tty.
    const argv = config.tty
      ? ['script', '-qefc', config.cmd.map(shellQuote).join(' '), '/dev/null']
      : [cmd, ...args];
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd,
      env: config.tty ? { SHELL: '/bin/sh', ...env } : env,
      // Its own process group: stop() kills the whole tree with one signal.
      detached: true,
      stdio: [config.attachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(ids ?? {}),
    });
    // Listeners first (the process may exit at once), then wait for the spawn outcome.
    const pidFile = child.pid !== undefined ? join(this.pidsDir, String(child.pid)) : undefined;
    if (pidFile) {
      mkdirSync(this.pidsDir, { recursive: true });
      writeFileSync(pidFile, '');
    }
    const exec = new LocalExec(
      child,
      async () => {
        if (pidFile) await unlink(pidFile).catch(() => undefined);
      },
      config.stdout,
      config.stderr,
      config.attachStdin === true,
    );
    child.stdin?.on('error', () => undefined); // the process may exit before reading stdin
    await new Promise<void>((res, rej) => {
      child.once('spawn', res);
      child.once('error', (err) =>
        rej(
          wrap(err, `cannot start ${JSON.stringify(cmd)} in pod ${this.id}`, {
            code: ExecutorErrorCodes.ExecStart,
          }),
        ),
      );
    });
    return exec;
  }

  /**
   * Without a user, `HOME` or `PWD` in `env`, a process of this pod sees `HOME` = the pod's
   * home and starts in it (its `PWD` is the resolved path, as `getcwd` gives it).
   */
  async knownDirs(
    env: Readonly<Record<string, string>>,
    user?: string,
  ): Promise<{ home: string; cwd: string } | undefined> {
    if (user || Object.hasOwn(env, 'HOME') || Object.hasOwn(env, 'PWD')) return undefined;
    if (!isAbsolute(this.home)) return undefined;
    const cwd = await realpath(this.home).catch(() => undefined);
    return cwd === undefined ? undefined : { home: this.home, cwd };
  }

  /** `mkdir -p` in this process, as the executor's user (a process would run as it too). */
  async makeDirs(dir: string, user?: string, options: SignalOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    if (user || !isAbsolute(dir)) return false;
    if (!(await stat(this.dir).catch(() => undefined))) {
      throw newError(`pod ${this.id} does not exist`, { code: ExecutorErrorCodes.PodNotFound });
    }
    await mkdir(dir, { recursive: true });
    return true;
  }

  async copyIn(dir: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
    // As root, what another user's steps restore belongs to that user (it is as if they wrote it).
    const owner =
      options.user && process.getuid?.() === 0 ? await lookupUser(options.user) : undefined;
    await extractTo(this.hostPath(dir), tar, options.signal, owner);
  }

  async copyOut(path: string, options: SignalOptions = {}): Promise<Readable> {
    return packPath(this.hostPath(path), options.signal);
  }

  async stop(): Promise<void> {
    const pids = await readdir(this.pidsDir).catch(() => [] as string[]);
    for (const p of pids) {
      try {
        process.kill(-Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
      await unlink(join(this.pidsDir, p)).catch(() => undefined);
    }
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

class LocalDriver implements Driver {
  readonly type = 'local';
  readonly executorId: string;
  readonly basePath: string;
  private readonly log: DriverLogger;

  constructor(private readonly config: LocalDriverConfig) {
    this.executorId = config.executorId;
    this.basePath = config.path ?? process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
    this.log = config.logger ?? silentLogger;
  }

  async setup(): Promise<void> {
    await mkdir(this.config.podsDir, { recursive: true });
  }

  async newPod(config: PodConfig, options: NewPodOptions = {}): Promise<Pod> {
    options.signal?.throwIfAborted();
    if (config.containers.length === 0) {
      throw newError('a pod needs at least one container', {
        code: ExecutorErrorCodes.InvalidConfig,
      });
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(config.id)) {
      throw newError(`invalid pod id ${JSON.stringify(config.id)}`, {
        code: ExecutorErrorCodes.InvalidConfig,
      });
    }
    const dir = join(this.config.podsDir, config.id);
    const meta: PodFile = {
      id: config.id,
      taskId: config.taskId,
      executorId: this.executorId,
      labels: podLabels(config, this.executorId),
    };
    await mkdir(join(dir, 'home'), { recursive: true });
    const mainUser = config.containers[0]?.user;
    if (mainUser && process.getuid?.() === 0) {
      // The home belongs to the main container's user, as in an image made for that user.
      const { uid, gid } = await lookupUser(mainUser);
      await chown(join(dir, 'home'), uid, gid);
    }
    await writeFile(join(dir, 'pod.json'), JSON.stringify(meta));
    const pod = new LocalPod(this, dir, meta);
    const images = config.containers.map((c) => c.image).join(', ');
    writeLine(
      options.out,
      `local driver: the image (${images}) is ignored; steps run as processes on the executor host in ${pod.home} (no isolation)`,
    );
    try {
      for (const [i, c] of config.containers.entries()) {
        if (c.volumes?.length) writeLine(options.out, `container ${i}: volumes are ignored`);
        if (!c.entrypoint?.length) continue;
        // A service container's (or main container's) entrypoint runs in the background.
        writeLine(options.out, `container ${i}: starting ${c.entrypoint.join(' ')}`);
        await pod.exec({ cmd: c.entrypoint, env: c.env, user: c.user }, options);
      }
    } catch (err) {
      await pod.remove();
      throw wrap(err, `starting pod ${config.id}`, { code: ExecutorErrorCodes.PodStart });
    }
    this.log.debug({ podId: config.id, taskId: config.taskId }, 'pod created');
    return pod;
  }

  async getPods(options: GetPodsOptions = {}): Promise<Pod[]> {
    const names = await readdir(this.config.podsDir).catch(() => [] as string[]);
    const pods: Pod[] = [];
    for (const name of names.sort()) {
      const dir = join(this.config.podsDir, name);
      let meta: PodFile;
      try {
        meta = JSON.parse(await readFile(join(dir, 'pod.json'), 'utf8')) as PodFile;
      } catch {
        continue; // not a pod (or one being created)
      }
      if (!options.all && meta.executorId !== this.executorId) continue;
      pods.push(new LocalPod(this, dir, meta));
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
    return [goArch(process.arch)];
  }

  async close(): Promise<void> {
    // Nothing to release: every call is a fresh request or process.
  }
}

/**
 * The local driver: a pod is a directory (`<podsDir>/<podId>/home` is its `~` and the
 * default working dir), each exec a host process in its own process group; stopping the pod
 * kills every process group it started. Images are ignored (the setup log says so), service
 * containers' entrypoints run as background processes. There is NO isolation: steps run
 * with the executor's user and see the whole host. Use it only for trusted code.
 *
 * @example
 * ```ts
 * const driver = createLocalDriver({ type: 'local', executorId, podsDir: '/var/lib/agola/pods' });
 * await driver.setup();
 * ```
 */
export function createLocalDriver(config: LocalDriverConfig): Driver {
  return new LocalDriver(config);
}

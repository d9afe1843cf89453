import { posix } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { newError, wrap } from '@agola-ts/errors';
import { ExecutorErrorCodes } from '../codes.js';
import type { Arch, Pod } from '../driver/types.js';

/** What every step of a task runs with. */
export interface StepContext {
  /** The task's pod (steps run in its container 0). */
  pod: Pod;
  /** The task environment (steps may overlay their own). */
  env: Record<string, string>;
  /** The task working dir (`~` and relative dirs are expanded in the container). @default `~/project` */
  workingDir?: string;
  /** User the steps run as. @default the container's user */
  user?: string;
  /** Shell of `run` steps, split on spaces. @default `/bin/sh -e` */
  shell?: string;
  /** The step log: everything a step prints or says goes here (mask secrets before it). */
  log: Writable;
  /** Arch reported by the `arch` cache key function. @default the executor's arch */
  arch?: Arch;
  signal?: AbortSignal;
}

/** What a task needs from the runservice for workspaces and caches. */
export interface ArtifactStore {
  /** The archive a `save_to_workspace` step of a (previous) task produced. */
  getArchive(taskId: string, step: number, options?: { signal?: AbortSignal }): Promise<Readable>;
  /** Whether a cache with exactly this key exists. */
  headCache(key: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** The newest cache whose key starts with `prefix`; `undefined` when there is none (404). */
  getCache(prefix: string, options?: { signal?: AbortSignal }): Promise<Readable | undefined>;
  /**
   * Stores a cache. `exists` when a cache with this key was already saved (HTTP 304: someone
   * else saved it first), which is not an error.
   */
  putCache(
    key: string,
    archive: Readable,
    options?: { signal?: AbortSignal },
  ): Promise<'saved' | 'exists'>;
}

/** Writes one line to the step log. */
export function logLine(ctx: StepContext, line: string): void {
  ctx.log.write(`${line}\n`);
}

/** Collects what a process prints, up to a limit. */
export class LimitedCollector extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  /** True when more than the limit was written (the rest was dropped). */
  overflow = false;
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    if (this.size + chunk.length > this.limit) this.overflow = true;
    else {
      this.size += chunk.length;
      this.chunks.push(Buffer.from(chunk));
    }
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const dirsCache = new WeakMap<Pod, Map<string, { home: string; cwd: string }>>();

/** `$HOME` and the default working dir of the step user in the pod (asked once per pod and user). */
async function homeAndCwd(ctx: StepContext): Promise<{ home: string; cwd: string }> {
  let perPod = dirsCache.get(ctx.pod);
  if (!perPod) {
    perPod = new Map();
    dirsCache.set(ctx.pod, perPod);
  }
  const key = ctx.user ?? '';
  const known = perPod.get(key);
  if (known) return known;
  const fast = await ctx.pod.knownDirs?.(ctx.env, ctx.user);
  if (fast) {
    perPod.set(key, fast);
    return fast;
  }
  const out = new LimitedCollector(64 * 1024);
  const stderr = new LimitedCollector(64 * 1024);
  const exec = await ctx.pod.exec(
    {
      cmd: ['sh', '-c', 'printf "%s\\n%s\\n" "$HOME" "$PWD"'],
      env: ctx.env,
      ...(ctx.user ? { user: ctx.user } : {}),
      stdout: out,
      stderr: stderr,
    },
    { signal: ctx.signal },
  );
  const code = await exec.wait({ signal: ctx.signal });
  const [home = '', cwd = ''] = out.text().split('\n');
  if (code !== 0 || !home.startsWith('/')) {
    throw newError(
      `cannot read the home dir of the step user (exit ${code}): ${stderr.text().trim()}`,
      { code: ExecutorErrorCodes.StepFailed },
    );
  }
  const dirs = { home, cwd: cwd.startsWith('/') ? cwd : '/' };
  perPod.set(key, dirs);
  return dirs;
}

/**
 * Expands a dir as Agola's toolbox does: `~` and `~/...` become the step user's home,
 * relative dirs are taken from `base` (the working dir) or the container's default dir.
 */
export async function expandDir(ctx: StepContext, dir: string, base?: string): Promise<string> {
  const { home, cwd } = await homeAndCwd(ctx);
  let d = dir;
  if (d === '~') d = home;
  else if (d.startsWith('~/')) d = posix.join(home, d.slice(2));
  return posix.resolve(base ?? cwd, d);
}

/** The task working dir, expanded. */
export function workingDirOf(ctx: StepContext): Promise<string> {
  return expandDir(ctx, ctx.workingDir ?? '~/project');
}

/** Runs a helper command in the pod as the step user; fails the step on a non-zero exit. */
export async function podCommand(ctx: StepContext, cmd: string[], input?: string): Promise<string> {
  const out = new LimitedCollector(1024 * 1024);
  const exec = await ctx.pod.exec(
    {
      cmd,
      env: ctx.env,
      ...(ctx.user ? { user: ctx.user } : {}),
      attachStdin: input !== undefined,
      stdout: out,
      stderr: ctx.log,
    },
    { signal: ctx.signal },
  );
  if (input !== undefined) exec.stdin?.end(input);
  const code = await exec.wait({ signal: ctx.signal });
  if (code !== 0) {
    throw newError(`${cmd[0] ?? ''} ended with exit code ${code}`, {
      code: ExecutorErrorCodes.StepFailed,
    });
  }
  return out.text();
}

/**
 * Creates the task working dir in the pod (as the step user), as Agola's setup does before
 * the first step.
 */
export async function prepareWorkingDir(ctx: StepContext): Promise<string> {
  const dir = await workingDirOf(ctx);
  let made = false;
  try {
    made = (await ctx.pod.makeDirs?.(dir, ctx.user, { signal: ctx.signal })) ?? false;
  } catch (err) {
    // a file system error (not a missing pod, not an abort): as `mkdir -p` would fail
    const fsErr = err as NodeJS.ErrnoException;
    if (typeof fsErr.syscall !== 'string') throw err;
    logLine(ctx, `mkdir: cannot create directory ${JSON.stringify(dir)}: ${fsErr.code ?? ''}`);
    throw wrap(err, 'mkdir ended with exit code 1', { code: ExecutorErrorCodes.StepFailed });
  }
  if (!made) await podCommand(ctx, ['mkdir', '-p', dir]);
  return dir;
}

import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { newError, wrap } from '@agola-ts/errors';
import { MAX_CACHE_KEY_SIZE, renderCacheKey } from '@agola-ts/runconfig';
import { ExecutorErrorCodes } from '../codes.js';
import { goArch } from '../driver/common.js';
import { archiveContents, unarchive, type ArchiveContent } from './archive.js';
import {
  expandDir,
  logLine,
  workingDirOf,
  type ArtifactStore,
  type StepContext,
} from './context.js';

/** A `run` step. */
export interface RunStep {
  command: string;
  /** Overlaid on the task environment. */
  environment?: Record<string, string>;
  /** @default the task working dir */
  workingDir?: string;
  /** @default the task shell */
  shell?: string;
  /** @default true (as in Agola's run config) */
  tty?: boolean;
}

/**
 * Runs a `run` step: the command is written to a file in the pod (`~/.agola/`) and executed
 * as `<shell split on spaces> <file>` with the task env overlaid by the step env, in the
 * step (or task) working dir, as the task user, with a tty unless `tty: false`. Output goes
 * to the step log. Resolves with the exit code.
 *
 * @throws `ERR_EXECUTOR_EXEC_START` when the shell or the working dir is missing.
 */
export async function runStep(ctx: StepContext, step: RunStep): Promise<number> {
  const taskDir = await workingDirOf(ctx);
  const workingDir = step.workingDir ? await expandDir(ctx, step.workingDir, taskDir) : taskDir;
  const home = await expandDir(ctx, '~');
  const scriptDir = posix.join(home, '.agola');
  const scriptName = `step-${randomUUID()}.sh`;
  const p = pack();
  p.entry({ name: scriptName, mode: 0o755 }, step.command);
  p.finalize();
  await ctx.pod.copyIn(scriptDir, Readable.from(p), {
    signal: ctx.signal,
    ...(ctx.user ? { user: ctx.user } : {}),
  });
  const shell = (step.shell ?? ctx.shell ?? '/bin/sh -e').split(' ').filter(Boolean);
  const exec = await ctx.pod.exec(
    {
      cmd: [...shell, posix.join(scriptDir, scriptName)],
      env: { ...ctx.env, ...step.environment },
      workingDir,
      ...(ctx.user ? { user: ctx.user } : {}),
      tty: step.tty ?? true,
      stdout: ctx.log,
      stderr: ctx.log,
    },
    { signal: ctx.signal },
  );
  return exec.wait({ signal: ctx.signal });
}

/**
 * A `save_to_workspace` step: writes the archive of the contents to `out` (the executor's
 * `archives/<step>.tar`, later fetched by the runservice). `out` is ended.
 */
export async function saveToWorkspace(
  ctx: StepContext,
  contents: ArchiveContent[],
  out: Writable,
): Promise<void> {
  await pipeline(archiveContents(ctx, contents), out, { signal: ctx.signal });
}

/** Where a `restore_workspace` step takes an archive from. */
export interface WorkspaceOperation {
  taskId: string;
  step: number;
}

/**
 * A `restore_workspace` step: extracts each ancestor archive in order into `destDir`,
 * never overwriting (a file present in two layers fails the step, as in Agola).
 */
export async function restoreWorkspace(
  ctx: StepContext,
  destDir: string,
  operations: WorkspaceOperation[],
  store: ArtifactStore,
): Promise<void> {
  for (const op of operations) {
    let archive: Readable;
    try {
      archive = await store.getArchive(op.taskId, op.step, { signal: ctx.signal });
    } catch (err) {
      logLine(ctx, `error reading workspace archive of task ${op.taskId} step ${op.step}`);
      throw wrap(err, 'reading workspace archive', { code: ExecutorErrorCodes.StepFailed });
    }
    await unarchive(ctx, archive, destDir);
  }
}

/** Options of the cache steps. */
export interface CacheStepOptions {
  /** The task's cache prefix (the runservice's `cache_prefix`, e.g. the project group id). */
  cachePrefix: string;
  store: ArtifactStore;
}

/** Renders a cache key template in the pod: files are read from it, env from the task. */
export async function renderKey(ctx: StepContext, template: string): Promise<string> {
  const cwd = await workingDirOf(ctx);
  return renderCacheKey(template, {
    cwd,
    env: ctx.env,
    os: 'linux',
    arch: ctx.arch ?? goArch(process.arch),
    readFile: async (path) => {
      const tar = await ctx.pod.copyOut(path, { signal: ctx.signal });
      return readSingleFile(tar, path);
    },
  });
}

/** The content of the one regular file in a tar from `copyOut`, at most 1 MiB. */
async function readSingleFile(tar: Readable, path: string): Promise<Uint8Array> {
  const ex = extract();
  let result: Buffer | undefined;
  let failure: Error | undefined;
  const done = (async () => {
    for await (const entry of ex) {
      if (result === undefined && failure === undefined) {
        if (entry.header.type !== 'file') {
          failure = newError(`${JSON.stringify(path)} is not a regular file`, {
            code: ExecutorErrorCodes.StepFailed,
          });
        } else if (entry.header.size > MAX_CACHE_KEY_SIZE) {
          failure = newError(`file ${JSON.stringify(path)} is too big`, {
            code: ExecutorErrorCodes.StepFailed,
          });
        } else {
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          result = Buffer.concat(chunks);
          continue;
        }
      }
      entry.resume();
    }
  })();
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  if (failure) throw failure;
  return result ?? new Uint8Array();
}

/** A `save_cache` step's fields. */
export interface SaveCacheStep {
  /** Key template (`deps-{{ md5sum "go.sum" }}`). */
  key: string;
  contents: ArchiveContent[];
}

/**
 * A `save_cache` step: renders the key, skips when the cache exists, otherwise archives the
 * contents (empty paths mean `**`) and stores it under `<cachePrefix>-<key>`. A store that
 * answers `exists` (304: saved by someone else meanwhile) is success.
 */
export async function saveCache(
  ctx: StepContext,
  step: SaveCacheStep,
  options: CacheStepOptions,
): Promise<'saved' | 'exists'> {
  const userKey = await renderKey(ctx, step.key).catch((err: unknown) => {
    logLine(ctx, `cannot render the cache key: ${(err as Error).message}`);
    throw wrap(err, 'rendering the cache key', { code: ExecutorErrorCodes.StepFailed });
  });
  logLine(ctx, `cache key ${JSON.stringify(userKey)}`);
  const key = `${options.cachePrefix}-${userKey}`;
  if (await options.store.headCache(key, { signal: ctx.signal })) {
    logLine(ctx, `cache for key ${JSON.stringify(userKey)} already exists`);
    return 'exists';
  }
  logLine(ctx, `archiving cache with key ${JSON.stringify(userKey)}`);
  const contents = step.contents.map((c) => ({ ...c, paths: c.paths.length ? c.paths : ['**'] }));
  const archive = archiveContents(ctx, contents);
  // The store reads a plain stream; a failure while archiving ends it with that error.
  const body = new PassThrough();
  const piping = pipeline(archive, body).catch((err: unknown) => {
    body.destroy(err as Error);
    throw err;
  });
  const [result] = await Promise.all([
    options.store.putCache(key, body, { signal: ctx.signal }),
    piping,
  ]);
  if (result === 'exists')
    logLine(ctx, `cache for key ${JSON.stringify(userKey)} was saved meanwhile`);
  return result;
}

/** A `restore_cache` step's fields. */
export interface RestoreCacheStep {
  /** Key templates, tried in order as key prefixes. */
  keys: string[];
  destDir: string;
}

/**
 * A `restore_cache` step: for each key in order, renders it and asks the store for the
 * newest cache whose key starts with `<cachePrefix>-<key>`; the first hit is extracted into
 * `destDir` (without overwriting) and the step ends. No hit at all is success.
 * Resolves with the full key prefix that hit (`<cachePrefix>-<key>`), or `undefined`.
 */
export async function restoreCache(
  ctx: StepContext,
  step: RestoreCacheStep,
  options: CacheStepOptions,
): Promise<string | undefined> {
  for (const template of step.keys) {
    let userKey: string;
    try {
      userKey = await renderKey(ctx, template);
    } catch (err) {
      logLine(ctx, `cannot render the cache key: ${(err as Error).message}`);
      throw wrap(err, 'rendering the cache key', { code: ExecutorErrorCodes.StepFailed });
    }
    logLine(ctx, `cache key ${JSON.stringify(userKey)}`);
    const key = `${options.cachePrefix}-${userKey}`;
    const archive = await options.store.getCache(key, { signal: ctx.signal });
    if (!archive) {
      logLine(ctx, `no cache available for key ${JSON.stringify(userKey)}`);
      continue;
    }
    logLine(ctx, `restoring cache with key ${JSON.stringify(userKey)}`);
    await unarchive(ctx, archive, step.destDir);
    return key;
  }
  return undefined;
}

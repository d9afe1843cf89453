import { randomBytes } from 'node:crypto';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from './codes.js';
import { runGit } from './git.js';

/** The refs prefix under which {@link gitSave} keeps its commits. */
export const GIT_SAVE_REFS_PREFIX = 'refs/agola/directrun/';

/** Options of {@link gitSave}. */
export interface GitSaveOptions {
  /** A directory inside the work tree to save. */
  cwd: string;
  /**
   * The ref that receives the commit; a name below {@link GIT_SAVE_REFS_PREFIX}.
   * @default `refs/agola/directrun/last`
   */
  ref?: string;
  /** The commit message. @default `agola directrun` */
  message?: string;
  /** Include untracked (not ignored) files. @default true */
  untracked?: boolean;
  /** Include ignored files too (only with `untracked`). @default false */
  ignored?: boolean;
  signal?: AbortSignal;
}

/** The commit {@link gitSave} made. */
export interface GitSaveResult {
  /** The commit's sha. */
  commitSHA: string;
  /** The tree's sha. */
  treeSHA: string;
  /** The ref that now points at the commit. */
  ref: string;
  /** The parent commit (HEAD when the repository has one). */
  parentSHA: string | undefined;
  /** The top directory of the work tree. */
  topLevel: string;
}

const SHA = /^[0-9a-f]{40,64}$/;

/** An identity for the commit when the user configured none (git refuses to commit then). */
async function identityEnv(cwd: string, signal?: AbortSignal): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  const get = async (key: string) =>
    (
      await runGit(['config', '--get', key], {
        cwd,
        okCodes: [0, 1],
        ...(signal ? { signal } : {}),
      })
    ).stdout.trim();
  if ((await get('user.name')) === '' && !process.env['GIT_AUTHOR_NAME']) {
    env['GIT_AUTHOR_NAME'] = 'agola directrun';
    env['GIT_COMMITTER_NAME'] = 'agola directrun';
  }
  if ((await get('user.email')) === '' && !process.env['GIT_AUTHOR_EMAIL']) {
    env['GIT_AUTHOR_EMAIL'] = 'directrun@agola.invalid';
    env['GIT_COMMITTER_EMAIL'] = 'directrun@agola.invalid';
  }
  return env;
}

/**
 * The top directory and the git dir of the work tree holding `cwd`.
 *
 * @throws `ERR_AGOLA_NOT_A_GIT_REPO` when `cwd` is not inside a git work tree (a bare
 *   repository is not one); `ERR_AGOLA_GIT` when git cannot run.
 */
export async function workTreeOf(
  cwd: string,
  options: { signal?: AbortSignal } = {},
): Promise<{ topLevel: string; gitDir: string }> {
  const probe = await runGit(
    ['rev-parse', '--is-inside-work-tree', '--show-toplevel', '--absolute-git-dir'],
    { cwd, okCodes: [0, 128], ...(options.signal ? { signal: options.signal } : {}) },
  ).catch((err: unknown) => {
    throw wrap(err, `reading the repository at ${cwd}`);
  });
  const [inside, topLevel, gitDir] = probe.stdout.split('\n');
  if (probe.code !== 0 || inside !== 'true' || !topLevel || !gitDir) {
    throw newError(`${cwd} is not inside a git work tree`, {
      code: AgolaAppErrorCodes.NotAGitRepo,
    });
  }
  return { topLevel, gitDir };
}

/**
 * Saves the work tree as a commit on a private ref, without touching the work tree, the index
 * or HEAD: the files are added to a temporary index (a copy of the real one, so staged
 * changes count too), written as a tree and committed with HEAD as parent (no parent in a
 * repository without commits). Tracked changes are always included; untracked files unless
 * `untracked` is false; ignored files only with `ignored`. Every git call goes through
 * `execFile` (no shell).
 *
 * @throws `ERR_AGOLA_NOT_A_GIT_REPO` when `cwd` is not inside a git work tree;
 *   `ERR_AGOLA_GIT` when a git command fails.
 * @example
 * const { commitSHA } = await gitSave({ cwd: process.cwd(), ignored: false });
 */
export async function gitSave(options: GitSaveOptions): Promise<GitSaveResult> {
  const sig = options.signal ? { signal: options.signal } : {};
  const ref = options.ref ?? `${GIT_SAVE_REFS_PREFIX}last`;
  if (!ref.startsWith(GIT_SAVE_REFS_PREFIX) || ref.length === GIT_SAVE_REFS_PREFIX.length) {
    throw newError(`git-save: the ref must be below ${GIT_SAVE_REFS_PREFIX}, got ${ref}`, {
      code: AgolaAppErrorCodes.Git,
    });
  }
  const { topLevel, gitDir } = await workTreeOf(options.cwd, sig);
  // `git check-ref-format` refuses names git itself would refuse (`..`, `~`, spaces...)
  await runGit(['check-ref-format', ref], { cwd: topLevel, ...sig }).catch((err: unknown) => {
    throw wrap(err, `git-save: invalid ref name ${JSON.stringify(ref)}`);
  });

  const tmpIndex = join(gitDir, `agola-git-save-index-${randomBytes(8).toString('hex')}`);
  const indexEnv = { GIT_INDEX_FILE: tmpIndex };
  try {
    // a copy of the real index keeps its staged entries and its stat cache (fast `add`)
    await copyFile(join(gitDir, 'index'), tmpIndex).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    const add =
      options.untracked === false
        ? ['add', '--update']
        : options.ignored
          ? ['add', '--all', '--force']
          : ['add', '--all'];
    await runGit([...add, '--', '.'], { cwd: topLevel, env: indexEnv, ...sig });
    const treeSHA = (
      await runGit(['write-tree'], { cwd: topLevel, env: indexEnv, ...sig })
    ).stdout.trim();
    const head = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], {
      cwd: topLevel,
      okCodes: [0, 1, 128],
      ...sig,
    });
    const parentSHA = head.code === 0 ? head.stdout.trim() : undefined;
    const commit = await runGit(
      ['commit-tree', treeSHA, ...(parentSHA ? ['-p', parentSHA] : []), '-F', '-'],
      {
        cwd: topLevel,
        env: await identityEnv(topLevel, options.signal),
        input: options.message ?? 'agola directrun',
        ...sig,
      },
    );
    const commitSHA = commit.stdout.trim();
    if (!SHA.test(commitSHA) || !SHA.test(treeSHA)) {
      throw newError(`git-save: unexpected git output ${JSON.stringify(commitSHA.slice(0, 80))}`, {
        code: AgolaAppErrorCodes.Git,
      });
    }
    await runGit(['update-ref', '-m', 'agola directrun', ref, commitSHA], {
      cwd: topLevel,
      ...sig,
    });
    return { commitSHA, treeSHA, ref, parentSHA, topLevel };
  } finally {
    await rm(tmpIndex, { force: true });
  }
}

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { wrap } from '@agola-ts/errors';
import type { ServiceLogger } from '@agola-ts/service-kit';
import { runGit } from './git-command.js';

/** What one cleaner pass did. */
export interface CleanResult {
  /** `<repo dir>:<ref>` of every deleted branch or tag. */
  deletedRefs: string[];
  /** Repositories removed because the pass deleted their last ref. */
  deletedRepos: string[];
}

async function dirsOf(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * Deletes the branches and tags of one bare repository whose last commit is older than
 * `expireMs` (Agola's rule: the committer date of the commit the ref points to), then prunes.
 * A repository whose last refs this pass deleted is removed; one that never had a ref (a push
 * may be starting) is left alone.
 */
export async function cleanRepo(
  dir: string,
  expireMs: number,
  now: number,
  result: CleanResult,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { stdout } = await runGit(
    [
      '--git-dir',
      dir,
      'for-each-ref',
      '--format=%(refname)%00%(committerdate:unix)%00%(*committerdate:unix)',
      'refs/heads/',
      'refs/tags/',
    ],
    options,
  );
  const lines = stdout.split('\n').filter((l) => l !== '');
  let deleted = 0;
  for (const line of lines) {
    const [ref = '', direct = '', peeled = ''] = line.split('\0');
    const seconds = Number(direct || peeled);
    if (!ref || !Number.isFinite(seconds) || seconds <= 0) continue;
    if (now - seconds * 1000 < expireMs) continue;
    await runGit(['--git-dir', dir, 'update-ref', '-d', ref], options);
    result.deletedRefs.push(`${dir}:${ref}`);
    deleted++;
  }
  if (deleted === 0) return;
  await runGit(['--git-dir', dir, 'prune'], options);
  if (deleted === lines.length) {
    await rm(dir, { recursive: true, force: true });
    result.deletedRepos.push(dir);
  }
}

/**
 * One pass of the repository cleaner over `<dataDir>/<user>/<repo>` (Agola's layout): see
 * {@link cleanRepo}. A repository that fails is logged and skipped.
 */
export async function cleanRepos(
  dataDir: string,
  expireMs: number,
  logger: ServiceLogger,
  options: { signal?: AbortSignal; now?: number } = {},
): Promise<CleanResult> {
  const result: CleanResult = { deletedRefs: [], deletedRepos: [] };
  const now = options.now ?? Date.now();
  for (const userDir of await dirsOf(dataDir)) {
    for (const repoDir of await dirsOf(userDir)) {
      if (options.signal?.aborted) return result;
      try {
        await cleanRepo(repoDir, expireMs, now, result, options);
      } catch (err) {
        logger.error(
          { err: wrap(err, 'cleaning a repository'), repo: repoDir },
          'repository cleaner',
        );
      }
    }
  }
  if (result.deletedRefs.length > 0) {
    logger.info(
      { refs: result.deletedRefs.length, repos: result.deletedRepos.length },
      'repository cleaner deleted expired refs',
    );
  }
  return result;
}

import { lstat, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { badRequest } from '@agola-ts/errors';
import { GitserverErrorCodes } from './codes.js';

/** Longest repository path accepted, in characters. */
export const MAX_REPO_PATH_LENGTH = 1024;

/** The suffix of every repository path. */
export const GIT_SUFFIX = '.git';

const invalid = (repoPath: string, why: string) =>
  badRequest(`invalid repository path ${JSON.stringify(repoPath.slice(0, 200))}: ${why}`, {
    code: GitserverErrorCodes.InvalidRepoPath,
    callerOf: invalid,
  });

// control characters and backslashes never belong in a repository path
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/;

/**
 * Checks the syntax of a repository path (`<userID>/<uuid>.git`, decoded, without a leading
 * slash): it ends in `.git`, has no empty, `.`/`..` or dot-prefixed segment, no control
 * character or backslash, and no parent component ending in `.git`.
 *
 * @throws `ApiError` 400 `ERR_GITSERVER_INVALID_REPO_PATH`.
 */
export function checkRepoPath(repoPath: string): string[] {
  if (repoPath.length === 0) throw invalid(repoPath, 'it is empty');
  if (repoPath.length > MAX_REPO_PATH_LENGTH) {
    throw invalid(repoPath, `it is longer than ${MAX_REPO_PATH_LENGTH} characters`);
  }
  if (repoPath.startsWith('/')) throw invalid(repoPath, 'it is absolute');
  if (FORBIDDEN_CHARS.test(repoPath)) throw invalid(repoPath, 'it has a forbidden character');
  if (!repoPath.endsWith(GIT_SUFFIX)) throw invalid(repoPath, `it does not end in ${GIT_SUFFIX}`);
  const parts = repoPath.split('/');
  for (const [i, part] of parts.entries()) {
    if (part === '') throw invalid(repoPath, 'it has an empty segment');
    if (part.startsWith('.'))
      throw invalid(repoPath, `segment ${JSON.stringify(part)} starts with a dot`);
    if (i < parts.length - 1 && part.endsWith(GIT_SUFFIX)) {
      throw invalid(repoPath, `parent ${JSON.stringify(part)} ends in ${GIT_SUFFIX}`);
    }
  }
  return parts;
}

/** Where a repository is on disk. */
export interface ResolvedRepo {
  /** The absolute path of the bare repository, inside the data dir. */
  dir: string;
  /** Whether it exists (as a directory). */
  exists: boolean;
}

function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

/**
 * Resolves a repository path under `dataDir` (its real path) after {@link checkRepoPath}:
 * every existing component must be a directory whose real path stays inside the data dir (a
 * symlink that leads out is refused), so nothing outside the data dir is ever read or created.
 *
 * @throws `ApiError` 400 `ERR_GITSERVER_INVALID_REPO_PATH`.
 */
export async function resolveRepoPath(dataDir: string, repoPath: string): Promise<ResolvedRepo> {
  const parts = checkRepoPath(repoPath);
  const root = await realpath(dataDir);
  let current = root;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    let st;
    try {
      st = await lstat(current);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return { dir: join(root, ...parts), exists: false };
      throw err;
    }
    if (st.isSymbolicLink()) {
      let real: string;
      try {
        real = await realpath(current);
      } catch {
        throw invalid(repoPath, 'it goes through a dangling symlink');
      }
      if (!within(root, real)) throw invalid(repoPath, 'it leads out of the data dir');
      current = real;
      st = await lstat(current);
    }
    if (!st.isDirectory()) {
      throw invalid(
        repoPath,
        i < parts.length - 1
          ? `parent ${JSON.stringify(part)} is not a directory`
          : 'it is not a directory',
      );
    }
  }
  return { dir: current, exists: true };
}

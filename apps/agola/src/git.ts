import { execFile } from 'node:child_process';
import { newError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from './codes.js';

/** Options of {@link runGit}. */
export interface RunGitOptions {
  /** Working directory of the git process. */
  cwd: string;
  /** Extra environment (merged over `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Data written to git's stdin. */
  input?: string;
  /** Exit codes that are not an error (their result is returned). @default [0] */
  okCodes?: readonly number[];
  signal?: AbortSignal;
}

/** What a git process printed, and how it ended. */
export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Longest part of git's stderr kept in an error message. */
const STDERR_TAIL = 2000;

/**
 * Runs `git <args>` without a shell (`execFile`), so no argument is ever interpreted.
 * Git's own prompts are off (`GIT_TERMINAL_PROMPT=0`): a missing credential fails instead of
 * waiting on the terminal.
 *
 * @throws `ERR_AGOLA_GIT` when git is missing or exits with a code not in `okCodes` (the
 *   message holds the subcommand and the end of git's stderr, never the whole command line,
 *   which could hold a URL).
 * @example
 * const { stdout } = await runGit(['rev-parse', 'HEAD'], { cwd: repoDir });
 */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitResult> {
  const okCodes = options.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      {
        cwd: options.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (err, stdout, stderr) => {
        // a number: git's exit code; a string (ENOENT...) or none: git did not run or was killed
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        if (err === null || okCodes.includes(code)) {
          resolve({ stdout, stderr, code });
          return;
        }
        const what = `git ${args[0] ?? ''}`;
        if (err.code === 'ENOENT') {
          reject(
            newError(`${what}: the git command is not installed (Debian package "git")`, {
              code: AgolaAppErrorCodes.Git,
            }),
          );
          return;
        }
        if (err.name === 'AbortError') {
          reject(wrap(err, `${what}: aborted`, { code: AgolaAppErrorCodes.Git }));
          return;
        }
        const tail = stderr.trim().slice(-STDERR_TAIL);
        reject(
          newError(`${what} failed (exit code ${code})${tail ? `: ${tail}` : ''}`, {
            code: AgolaAppErrorCodes.Git,
          }),
        );
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

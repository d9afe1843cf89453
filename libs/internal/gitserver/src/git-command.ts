import { spawn } from 'node:child_process';
import { newError, wrap } from '@agola-ts/errors';
import { GitserverErrorCodes } from './codes.js';

/** Largest output kept from a git command run to completion (stdout and stderr each). */
const MAX_CAPTURE = 1024 * 1024;

/** The environment git commands run with: no user or system config, no prompts. */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };
  const home = process.env['HOME'];
  if (home !== undefined) env['HOME'] = home;
  return { ...env, ...extra };
}

/** The result of {@link runGit}. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs git with `args` (never through a shell) and collects its output.
 *
 * @throws `ERR_GITSERVER_GIT` when git cannot be started or exits non-zero (unless `allowFailure`).
 */
export function runGit(
  args: readonly string[],
  options: {
    cwd?: string;
    signal?: AbortSignal;
    allowFailure?: boolean;
    env?: Record<string, string>;
  } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (c: Buffer) => {
      if (outLen < MAX_CAPTURE) out.push(c);
      outLen += c.length;
    });
    child.stderr.on('data', (c: Buffer) => {
      if (errLen < MAX_CAPTURE) err.push(c);
      errLen += c.length;
    });
    child.on('error', (e) =>
      reject(wrap(e, `git ${args[0] ?? ''} could not run`, { code: GitserverErrorCodes.Git })),
    );
    child.on('close', (code) => {
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        reject(
          newError(
            `git ${args[0] ?? ''} exited with ${result.code}: ${result.stderr.trim().slice(0, 500)}`,
            {
              code: GitserverErrorCodes.Git,
            },
          ),
        );
        return;
      }
      resolve(result);
    });
  });
}

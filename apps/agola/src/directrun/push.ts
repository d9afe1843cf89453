import { randomUUID } from 'node:crypto';
import { newError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';
import { runGit } from '../git.js';

/** The git config key holding a repository's direct run UUID (Agola's). */
export const REPO_UUID_KEY = 'agola.repouuid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The repository's direct run UUID: git config `agola.repouuid`, created (a random UUID,
 * written to the repository's own config) the first time.
 *
 * @throws `ERR_AGOLA_GIT` when git fails, or the configured value is not a UUID.
 */
export async function repoUUIDOf(
  cwd: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const sig = options.signal ? { signal: options.signal } : {};
  const got = await runGit(['config', '--get', REPO_UUID_KEY], { cwd, okCodes: [0, 1], ...sig });
  const current = got.stdout.trim();
  if (got.code === 0 && current !== '') {
    if (!UUID.test(current)) {
      throw newError(
        `git config ${REPO_UUID_KEY} is ${JSON.stringify(current.slice(0, 60))}, not a UUID (remove it to get a new one)`,
        { code: AgolaAppErrorCodes.Git },
      );
    }
    return current.toLowerCase();
  }
  const uuid = randomUUID();
  await runGit(['config', '--local', REPO_UUID_KEY, uuid], { cwd, ...sig });
  return uuid;
}

/** Options of {@link pushToGitServer}. */
export interface PushOptions {
  /** A directory of the repository. */
  cwd: string;
  /** The gateway URL (`http://localhost:8000`). */
  gatewayURL: string;
  /** `<userID>/<repoUUID>`. */
  repoPath: string;
  /** The commit to push. */
  commitSHA: string;
  /** The remote ref it becomes (`refs/heads/master`). */
  remoteRef: string;
  /** HTTP basic auth user name (the gateway checks only the password). */
  username: string;
  /** The user's API token: the basic auth password. */
  token: string;
  signal?: AbortSignal;
}

/** The gateway URL without trailing slashes. */
export function trimURL(url: string): string {
  let u = url;
  while (u.endsWith('/')) u = u.slice(0, -1);
  return u;
}

/**
 * Force-pushes `commitSHA` to `<gateway>/repos/<repoPath>.git` at `remoteRef`. The
 * credentials reach git only through its environment (`GIT_CONFIG_COUNT`/`_KEY_n`/`_VALUE_n`,
 * an `http.<gateway>/.extraHeader` scoped to the gateway URL): never in the command line, the
 * URL, git's output or `.git/config`. Credential helpers are disabled for the push, so a
 * refused token is not stored or offered anywhere. Hooks do not run (`--no-verify`).
 *
 * @throws `ERR_AGOLA_DIRECTRUN_PUSH` with the end of git's output when the push fails.
 */
export async function pushToGitServer(options: PushOptions): Promise<void> {
  const base = trimURL(options.gatewayURL);
  const url = `${base}/repos/${options.repoPath}.git`;
  const basic = Buffer.from(`${options.username}:${options.token}`, 'utf8').toString('base64');
  // keep any GIT_CONFIG_* entries the user already has in the environment
  const existing = Number(process.env['GIT_CONFIG_COUNT'] ?? '0');
  const n = Number.isInteger(existing) && existing > 0 ? existing : 0;
  const env: NodeJS.ProcessEnv = {
    GIT_CONFIG_COUNT: String(n + 2),
    [`GIT_CONFIG_KEY_${n}`]: `http.${base}/.extraHeader`,
    [`GIT_CONFIG_VALUE_${n}`]: `Authorization: Basic ${basic}`,
    [`GIT_CONFIG_KEY_${n + 1}`]: 'credential.helper',
    [`GIT_CONFIG_VALUE_${n + 1}`]: '',
  };
  try {
    await runGit(
      [
        'push',
        '--force',
        '--no-verify',
        '--quiet',
        url,
        `${options.commitSHA}:${options.remoteRef}`,
      ],
      { cwd: options.cwd, env, ...(options.signal ? { signal: options.signal } : {}) },
    );
  } catch (err) {
    throw wrap(err, `pushing to ${base}/repos/${options.repoPath}.git`, {
      code: AgolaAppErrorCodes.DirectRunPush,
    });
  }
}

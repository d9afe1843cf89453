import { newError } from '@agola-ts/errors';
import type { GatewayClient, RunOwner, RunResponse } from '@agola-ts/gateway-client';
import { AgolaAppErrorCodes } from '../codes.js';
import { gitSave, GIT_SAVE_REFS_PREFIX, workTreeOf } from '../git-save.js';
import { allSucceeded, findCreatedRuns, followRuns, lastRunNumber } from './follow.js';
import { pushRefOf, type DirectRunTarget } from './flags.js';
import type { RunOutput } from './output.js';
import { pushToGitServer, repoUUIDOf, trimURL } from './push.js';

/** The commit message of a direct run (Agola's). */
export const DIRECT_RUN_MESSAGE = 'agola direct run';

/** Options of {@link directRunStart}. */
export interface DirectRunStartOptions {
  client: GatewayClient;
  /** The gateway URL (the git server is reached through its `/repos/`). */
  gatewayURL: string;
  /** The user's API token (also the password of the push). */
  token: string | undefined;
  /** A directory of the repository to run. */
  cwd: string;
  /** Include untracked files. @default true */
  untracked?: boolean;
  /** Include ignored files. @default false */
  ignored?: boolean;
  target: DirectRunTarget;
  prRefRegexes: readonly string[];
  variables: ReadonlyMap<string, string>;
  out: RunOutput;
  /** Follow the runs until they end. @default true */
  follow?: boolean;
  /** Period of the state polls while following. @default 150 */
  pollMs?: number;
  signal?: AbortSignal;
}

/** What {@link directRunStart} did. */
export interface DirectRunStartResult {
  /** The saved commit that was pushed and run. */
  commitSHA: string;
  /** The user's direct run repository: `<userID>/<repoUUID>`. */
  repoPath: string;
  /** The numbers of the runs created. */
  runNumbers: number[];
  /** The runs' final states (empty without `follow`). */
  runs: RunResponse[];
  /** ms since the epoch: the command started, the push ended, the first log byte arrived. */
  startedAt: number;
  pushedAt: number;
  firstLogAt: number | undefined;
  /** 0 when every run succeeded (or was not followed), else 1. */
  exitCode: number;
}

/**
 * `agola directrun start`: reads the current user, gets or creates the repository's
 * `agola.repouuid`, saves the work tree as a commit (git-save), pushes it to
 * `<gateway>/repos/<userID>/<repoUUID>.git`, creates the user direct run, then follows the
 * created runs (logs streamed, progress shown) and returns exit code 0 only if all succeeded.
 *
 * @throws `ERR_AGOLA_DIRECTRUN_FLAGS` without a token; `ERR_AGOLA_NOT_A_GIT_REPO`,
 *   `ERR_AGOLA_GIT`, `ERR_AGOLA_DIRECTRUN_PUSH`, `ERR_AGOLA_DIRECTRUN_FOLLOW`, or the
 *   gateway's errors.
 */
export async function directRunStart(
  options: DirectRunStartOptions,
): Promise<DirectRunStartResult> {
  const startedAt = Date.now();
  const { client, out, signal } = options;
  const sig = signal ? { signal } : {};
  if (!options.token) {
    throw newError('a user token is needed: give --token or set AGOLA_TOKEN', {
      code: AgolaAppErrorCodes.DirectRunFlags,
    });
  }
  const [user, repoUUID] = await Promise.all([
    client.getCurrentUser(sig),
    workTreeOf(options.cwd, sig).then(() => repoUUIDOf(options.cwd, sig)),
  ]);
  const owner: RunOwner = { kind: 'user', ref: user.id };
  const repoPath = `${user.id}/${repoUUID}`;
  const [saved, after] = await Promise.all([
    gitSave({
      cwd: options.cwd,
      ref: `${GIT_SAVE_REFS_PREFIX}last`,
      message: DIRECT_RUN_MESSAGE,
      untracked: options.untracked ?? true,
      ignored: options.ignored ?? false,
      ...sig,
    }),
    lastRunNumber(client, owner, sig),
  ]);
  const short = saved.commitSHA.slice(0, 10);
  out.note(`agola: work tree saved as ${short} (${saved.ref})`);
  const remoteRef = pushRefOf(options.target);
  await pushToGitServer({
    cwd: options.cwd,
    gatewayURL: options.gatewayURL,
    repoPath,
    commitSHA: saved.commitSHA,
    remoteRef,
    username: user.username,
    token: options.token,
    ...sig,
  });
  const pushedAt = Date.now();
  out.note(
    `agola: pushed ${short} to ${trimURL(options.gatewayURL)}/repos/${repoPath}.git ${remoteRef}`,
  );
  const target = options.target;
  await client.userCreateRun(
    {
      repo_uuid: repoUUID,
      repo_path: repoPath,
      ...('branch' in target ? { branch: target.branch } : {}),
      ...('tag' in target ? { tag: target.tag } : {}),
      ...('ref' in target ? { ref: target.ref } : {}),
      commit_sha: saved.commitSHA,
      message: DIRECT_RUN_MESSAGE,
      pull_request_ref_regexes: [...options.prRefRegexes],
      variables: Object.fromEntries(options.variables),
    },
    sig,
  );
  const runNumbers = await findCreatedRuns({
    client,
    owner,
    after,
    commitSHA: saved.commitSHA,
    ...sig,
  });
  const base = { commitSHA: saved.commitSHA, repoPath, runNumbers, startedAt, pushedAt };
  if (runNumbers.length === 0) {
    out.note("agola: no run was created (every run of the config was skipped by its 'when')");
    return { ...base, runs: [], firstLogAt: undefined, exitCode: 0 };
  }
  out.note(
    `agola: created run${runNumbers.length > 1 ? 's' : ''} ${runNumbers.map((n) => `#${n}`).join(', ')} of user ${user.username}`,
  );
  if (options.follow === false) {
    return { ...base, runs: [], firstLogAt: undefined, exitCode: 0 };
  }
  const followed = await followRuns({
    client,
    owner,
    runNumbers,
    out,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...sig,
  });
  for (const run of followed.runs) {
    for (const e of run.setup_errors ?? [])
      out.note(`agola: run ${run.name} #${run.number} setup error: ${e}`);
    const state = run.phase === 'finished' ? run.result : run.phase;
    out.note(`agola: run ${run.name} #${run.number} ${state}`);
  }
  return {
    ...base,
    runs: followed.runs,
    firstLogAt: followed.firstLogAt,
    exitCode: allSucceeded(followed.runs) ? 0 : 1,
  };
}

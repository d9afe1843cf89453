import type { ConfigContext } from '../ref.js';

/** Inputs of {@link staticEnvironment}. */
export interface StaticEnvironmentOptions {
  /** The ref and commit of the run. */
  context: ConfigContext;
  /** Clone URL of the repository (ssh or http). */
  repositoryUrl: string;
  /** Private key the clone step uses (the project's deploy key). */
  sshPrivateKey?: string;
  /** Known host key of the git server. */
  sshHostKey?: string;
  /** Do not check the git server's host key. */
  skipSshHostKeyCheck?: boolean;
  /** Git server host; by default taken from `repositoryUrl`. */
  gitHost?: string;
  /** Git server ssh port; by default taken from an `ssh://` URL, else 22. */
  gitPort?: string | number;
}

/** Host and ssh port of a clone URL (`ssh://git@host:2222/x.git`, `git@host:x.git`, `https://host/x.git`). */
export function gitHostOfUrl(url: string): { host: string; port: string } {
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)/.exec(url);
  if (scp?.[1] && !url.includes('://')) return { host: scp[1], port: '22' };
  try {
    const parsed = new URL(url);
    const port = parsed.protocol === 'ssh:' && parsed.port ? parsed.port : '22';
    return { host: parsed.hostname, port };
  } catch {
    return { host: '', port: '22' };
  }
}

/**
 * The static environment of a run, as Agola sets it: `CI=true` and the `AGOLA_*` variables the
 * clone step and users rely on. `AGOLA_SSHHOSTKEY` and `AGOLA_SKIPSSHHOSTKEYCHECK=1` are
 * present only when set.
 *
 * @example
 * ```ts
 * staticEnvironment({ context: contextOfRef('refs/heads/master', sha)!, repositoryUrl: 'git@example.com:o/r.git' });
 * ```
 */
export function staticEnvironment(options: StaticEnvironmentOptions): Record<string, string> {
  const { context } = options;
  const fromUrl = gitHostOfUrl(options.repositoryUrl);
  const env: Record<string, string> = {
    CI: 'true',
    AGOLA_SSHPRIVKEY: options.sshPrivateKey ?? '',
    AGOLA_REPOSITORY_URL: options.repositoryUrl,
    AGOLA_GIT_HOST: options.gitHost ?? fromUrl.host,
    AGOLA_GIT_PORT: options.gitPort !== undefined ? String(options.gitPort) : fromUrl.port,
    AGOLA_GIT_BRANCH: context.branch,
    AGOLA_GIT_TAG: context.tag,
    AGOLA_PULL_REQUEST_ID: context.pull_request_id,
    AGOLA_GIT_REF_TYPE: context.ref_type,
    AGOLA_GIT_REF: context.ref,
    AGOLA_GIT_COMMITSHA: context.commit_sha,
  };
  if (options.sshHostKey) env['AGOLA_SSHHOSTKEY'] = options.sshHostKey;
  if (options.skipSshHostKeyCheck) env['AGOLA_SKIPSSHHOSTKEYCHECK'] = '1';
  return env;
}

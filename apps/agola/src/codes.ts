/** Error codes of the `agola` app (documented in docs/errors.md). */
export const AgolaAppErrorCodes = {
  /** `--components` names a component that does not exist, or none. */
  InvalidComponents: 'ERR_AGOLA_INVALID_COMPONENTS',
  /** The embedded etcd is needed but the `etcd` binary is not installed. */
  EtcdMissing: 'ERR_AGOLA_ETCD_MISSING',
  /** The embedded etcd did not start (its output is in the message). */
  EtcdStart: 'ERR_AGOLA_ETCD_START',
  /** A git command failed (its stderr is in the message), or git is not installed. */
  Git: 'ERR_AGOLA_GIT',
  /** The directory is not inside a git work tree (git-save, `agola directrun start`). */
  NotAGitRepo: 'ERR_AGOLA_NOT_A_GIT_REPO',
  /** `agola directrun start` got flags that do not go together or a bad value. */
  DirectRunFlags: 'ERR_AGOLA_DIRECTRUN_FLAGS',
  /** `agola directrun start` could not push the saved tree to the git server. */
  DirectRunPush: 'ERR_AGOLA_DIRECTRUN_PUSH',
  /** The direct run was created but cannot be found or followed. */
  DirectRunFollow: 'ERR_AGOLA_DIRECTRUN_FOLLOW',
  /** A CLI command was given flags that do not fit together (exit code 2). */
  CliUsage: 'ERR_AGOLA_CLI_USAGE',
  /** A CLI input (`--file`, stdin) cannot be read, is too large or is not the expected YAML. */
  CliInput: 'ERR_AGOLA_CLI_INPUT',
  /** A CLI command's work did not end as expected (a followed log, an export) — see the message. */
  CliFailed: 'ERR_AGOLA_CLI_FAILED',
  /** A CLI command waited longer than its `--timeout` (`maintenance enable` for the switch). */
  CliTimeout: 'ERR_AGOLA_CLI_TIMEOUT',
} as const;

/** One of {@link AgolaAppErrorCodes}. */
export type AgolaAppErrorCode = (typeof AgolaAppErrorCodes)[keyof typeof AgolaAppErrorCodes];

/** Error codes of the `agola` app (documented in docs/errors.md). */
export const AgolaAppErrorCodes = {
  /** `--components` names a component that does not exist, or none. */
  InvalidComponents: 'ERR_AGOLA_INVALID_COMPONENTS',
  /** The embedded etcd is needed but the `etcd` binary is not installed. */
  EtcdMissing: 'ERR_AGOLA_ETCD_MISSING',
  /** The embedded etcd did not start (its output is in the message). */
  EtcdStart: 'ERR_AGOLA_ETCD_START',
  /** A CLI command was given flags that do not fit together (exit code 2). */
  CliUsage: 'ERR_AGOLA_CLI_USAGE',
  /** A CLI input (`--file`, stdin) cannot be read, is too large or is not the expected YAML. */
  CliInput: 'ERR_AGOLA_CLI_INPUT',
  /** A CLI command's work did not end as expected (a followed log, an export) — see the message. */
  CliFailed: 'ERR_AGOLA_CLI_FAILED',
} as const;

/** One of {@link AgolaAppErrorCodes}. */
export type AgolaAppErrorCode = (typeof AgolaAppErrorCodes)[keyof typeof AgolaAppErrorCodes];

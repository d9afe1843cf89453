/** Error codes of the `agola` app (documented in docs/errors.md). */
export const AgolaAppErrorCodes = {
  /** `--components` names a component that does not exist, or none. */
  InvalidComponents: 'ERR_AGOLA_INVALID_COMPONENTS',
  /** The embedded etcd is needed but the `etcd` binary is not installed. */
  EtcdMissing: 'ERR_AGOLA_ETCD_MISSING',
  /** The embedded etcd did not start (its output is in the message). */
  EtcdStart: 'ERR_AGOLA_ETCD_START',
} as const;

/** One of {@link AgolaAppErrorCodes}. */
export type AgolaAppErrorCode = (typeof AgolaAppErrorCodes)[keyof typeof AgolaAppErrorCodes];

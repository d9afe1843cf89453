/** Error codes of `@agola-ts/etcd` (documented in docs/errors.md). */
export const EtcdErrorCodes = {
  /** etcd could not be reached or did not answer (retry later). */
  Unavailable: 'ERR_ETCD_UNAVAILABLE',
  /** Any other failure of an etcd call. */
  Failed: 'ERR_ETCD_FAILED',
  /** A watch or read asked for a revision that etcd has compacted away. */
  Compacted: 'ERR_ETCD_COMPACTED',
  /** An atomic put/delete found the key at another revision than expected. */
  Conflict: 'ERR_ETCD_CONFLICT',
  /** A mutex's lease expired or was revoked: whoever held the lock no longer does. */
  LockLost: 'ERR_ETCD_LOCK_LOST',
  /** A sequence key holds something that is not a sequence, or a string is not one. */
  InvalidSequence: 'ERR_ETCD_INVALID_SEQUENCE',
  /** A key or prefix is not valid (empty where a key is needed). */
  InvalidKey: 'ERR_ETCD_INVALID_KEY',
  /** The client was closed. */
  Closed: 'ERR_ETCD_CLOSED',
} as const;

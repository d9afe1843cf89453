/**
 * Error codes of `@agola-ts/ost`. Test for one with `is(err, code)` from `@agola-ts/errors`
 * (or {@link isNotExist}); every code is documented in `docs/errors.md`.
 */
export const OstErrorCodes = {
  /** The object does not exist (stat, read, delete of a missing key). */
  NotExist: 'ERR_OST_NOT_EXIST',
  /** A key, prefix or base path is not valid (empty, `..`, empty segment, leading `/`, NUL). */
  InvalidKey: 'ERR_OST_INVALID_KEY',
  /** posix only: the key clashes with a directory of other keys (`a` vs `a/b`). */
  KeyConflict: 'ERR_OST_KEY_CONFLICT',
  /** A write's data did not have the length given in `size`; nothing was written. */
  SizeMismatch: 'ERR_OST_SIZE_MISMATCH',
  /** A bad argument other than a key: a range, a size, a data type. */
  InvalidArgument: 'ERR_OST_INVALID_ARGUMENT',
  /** The storage configuration is invalid (unknown type, missing field). */
  InvalidConfig: 'ERR_OST_INVALID_CONFIG',
  /** posix/posixflat: the key's path leads out of the storage root through a symbolic link. */
  OutsideRoot: 'ERR_OST_OUTSIDE_ROOT',
  /** The driver's optional peer dependency (`@aws-sdk/client-s3` for s3) is not installed. */
  DriverUnavailable: 'ERR_OST_DRIVER_UNAVAILABLE',
  /** The call was cancelled through its `signal`. */
  Aborted: 'ERR_OST_ABORTED',
  /** The backend (file system, S3 server) failed; the cause holds its error. */
  Backend: 'ERR_OST_BACKEND',
} as const;

/** One of the codes in {@link OstErrorCodes}. */
export type OstErrorCode = (typeof OstErrorCodes)[keyof typeof OstErrorCodes];

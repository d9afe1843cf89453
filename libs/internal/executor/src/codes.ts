/** Error codes of `@agola-ts/executor` (each is documented in docs/errors.md). */
export const ExecutorErrorCodes = {
  /** A driver or step configuration is invalid (the message names the field). */
  InvalidConfig: 'ERR_EXECUTOR_INVALID_CONFIG',
  /** A container image does not exist locally and could not be pulled. */
  ImageNotFound: 'ERR_EXECUTOR_IMAGE_NOT_FOUND',
  /** A pod could not be created or started (the message says which container and why). */
  PodStart: 'ERR_EXECUTOR_POD_START',
  /** The command of an exec could not be started (not found, not executable). */
  ExecStart: 'ERR_EXECUTOR_EXEC_START',
  /** The pod does not exist (any more): removed, or never created by this driver. */
  PodNotFound: 'ERR_EXECUTOR_POD_NOT_FOUND',
  /** A path to copy into or out of a pod does not exist or is not a directory. */
  PathNotFound: 'ERR_EXECUTOR_PATH_NOT_FOUND',
  /** An archive would write outside its destination, over an existing file, or twice to one path. */
  ArchiveRejected: 'ERR_EXECUTOR_ARCHIVE_REJECTED',
  /** The container engine (the Docker API) failed or is unreachable. */
  Engine: 'ERR_EXECUTOR_ENGINE',
  /** A step failed for a reason other than its command's exit code (its log says why). */
  StepFailed: 'ERR_EXECUTOR_STEP_FAILED',
} as const;

/** One of {@link ExecutorErrorCodes}. */
export type ExecutorErrorCode = (typeof ExecutorErrorCodes)[keyof typeof ExecutorErrorCodes];

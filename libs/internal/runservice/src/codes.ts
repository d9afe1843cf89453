/** Error codes of `@agola-ts/runservice` (each is documented in docs/errors.md). */
export const RunserviceErrorCodes = {
  /** A request field is missing or invalid (HTTP 400); the message names the field. */
  InvalidRequest: 'ERR_RUNSERVICE_INVALID_REQUEST',
  /**
   * The run changed since it was read, or a change group of the token moved (HTTP 400,
   * Agola's "run modified" / "optimistic locking failed"): re-read and retry.
   */
  ConcurrentUpdate: 'ERR_RUNSERVICE_CONCURRENT_UPDATE',
  /** The request is valid but the run or task is not in a state that allows it (HTTP 400). */
  InvalidState: 'ERR_RUNSERVICE_INVALID_STATE',
} as const;

/** One of {@link RunserviceErrorCodes}. */
export type RunserviceErrorCode = (typeof RunserviceErrorCodes)[keyof typeof RunserviceErrorCodes];

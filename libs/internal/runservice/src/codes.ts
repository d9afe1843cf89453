/** Error codes of `@agola-ts/runservice` (each is documented in docs/errors.md). */
export const RunserviceErrorCodes = {
  /** A request field is missing or invalid (HTTP 400); the message names the field. */
  InvalidRequest: 'ERR_RUNSERVICE_INVALID_REQUEST',
} as const;

/** One of {@link RunserviceErrorCodes}. */
export type RunserviceErrorCode = (typeof RunserviceErrorCodes)[keyof typeof RunserviceErrorCodes];

/**
 * Error codes of `@agola-ts/runservice-client` for requests that got no (complete) answer. An
 * answer with an error status is a `RemoteError` of `@agola-ts/errors` instead (its code is
 * the server's). Test for a code with `is(err, code)`; every code is documented in
 * `docs/errors.md`.
 */
export const RunserviceClientErrorCodes = {
  /** The server could not be reached: connection refused, host not found, no route. */
  Unreachable: 'ERR_RUNSERVICE_CLIENT_UNREACHABLE',
  /** The connection broke before the whole answer arrived (also in the middle of a stream). */
  ConnectionLost: 'ERR_RUNSERVICE_CLIENT_CONNECTION_LOST',
  /** No answer within the client's `timeoutMs` (for streams: no response headers). */
  Timeout: 'ERR_RUNSERVICE_CLIENT_TIMEOUT',
  /** The request (or a stream) was cancelled through a `signal`. */
  Aborted: 'ERR_RUNSERVICE_CLIENT_ABORTED',
  /** A 2xx answer (or a run event) whose body is not the JSON the route returns. */
  BadResponse: 'ERR_RUNSERVICE_CLIENT_BAD_RESPONSE',
} as const;

/** One of the codes in {@link RunserviceClientErrorCodes}. */
export type RunserviceClientErrorCode =
  (typeof RunserviceClientErrorCodes)[keyof typeof RunserviceClientErrorCodes];

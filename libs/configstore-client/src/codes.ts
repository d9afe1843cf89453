/**
 * Error codes of `@agola-ts/configstore-client` for requests that got no answer. An answer
 * with an error status is a `RemoteError` of `@agola-ts/errors` instead (its code is the
 * server's). Test for a code with `is(err, code)`; every code is documented in
 * `docs/errors.md`.
 */
export const ConfigstoreClientErrorCodes = {
  /** The server could not be reached: connection refused, host not found, no route. */
  Unreachable: 'ERR_CONFIGSTORE_CLIENT_UNREACHABLE',
  /** The connection broke before the whole answer arrived (reset, closed by the server). */
  ConnectionLost: 'ERR_CONFIGSTORE_CLIENT_CONNECTION_LOST',
  /** No complete answer within the client's `timeoutMs`. */
  Timeout: 'ERR_CONFIGSTORE_CLIENT_TIMEOUT',
  /** The request was cancelled through a `signal`. */
  Aborted: 'ERR_CONFIGSTORE_CLIENT_ABORTED',
  /** A 2xx answer whose body is not the JSON the route returns. */
  BadResponse: 'ERR_CONFIGSTORE_CLIENT_BAD_RESPONSE',
} as const;

/** One of the codes in {@link ConfigstoreClientErrorCodes}. */
export type ConfigstoreClientErrorCode =
  (typeof ConfigstoreClientErrorCodes)[keyof typeof ConfigstoreClientErrorCodes];

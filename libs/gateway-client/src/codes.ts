/**
 * Error codes of `@agola-ts/gateway-client` for requests that got no answer. An answer with
 * an error status is a `RemoteError` of `@agola-ts/errors` instead (status, kind, and the
 * gateway's code and message). Test for a code with `is(err, code)`; every code is
 * documented in `docs/errors.md`.
 */
export const GatewayClientErrorCodes = {
  /** The gateway could not be reached: connection refused, host not found, no route. */
  Unreachable: 'ERR_GATEWAY_CLIENT_UNREACHABLE',
  /** The connection broke before the whole answer arrived. */
  ConnectionLost: 'ERR_GATEWAY_CLIENT_CONNECTION_LOST',
  /** No complete answer within the client's `timeoutMs`. */
  Timeout: 'ERR_GATEWAY_CLIENT_TIMEOUT',
  /** The request was cancelled through a `signal`. */
  Aborted: 'ERR_GATEWAY_CLIENT_ABORTED',
  /** A 2xx answer whose body is not the JSON the route returns. */
  BadResponse: 'ERR_GATEWAY_CLIENT_BAD_RESPONSE',
  /** The gateway ended a run events stream with an `error` event (too slow a reader, access lost); the message has the gateway's code. */
  EventsEnded: 'ERR_GATEWAY_CLIENT_EVENTS_ENDED',
} as const;

/** One of the codes in {@link GatewayClientErrorCodes}. */
export type GatewayClientErrorCode =
  (typeof GatewayClientErrorCodes)[keyof typeof GatewayClientErrorCodes];

/**
 * Error codes of `@agola-ts/errors`. Every code of every lib is documented in
 * `docs/errors.md` (a test checks it in both directions).
 */
export const ErrorCodes = {
  /** An error that carries no more specific code (wrapped third-party errors, plain messages). */
  Unknown: 'ERR_UNKNOWN',
  /** API error kind `badrequest` (HTTP 400). */
  BadRequest: 'ERR_BAD_REQUEST',
  /** API error kind `notexist` (HTTP 404). */
  NotExist: 'ERR_NOT_EXIST',
  /** API error kind `forbidden` (HTTP 403). */
  Forbidden: 'ERR_FORBIDDEN',
  /** API error kind `unauthorized` (HTTP 401). */
  Unauthorized: 'ERR_UNAUTHORIZED',
  /** API error kind `internal` (HTTP 500). */
  Internal: 'ERR_INTERNAL',
  /** A remote API answered with an error status whose body is not the `{code, message}` JSON. */
  RemoteBadResponse: 'ERR_REMOTE_BAD_RESPONSE',
} as const;

/** One of the codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

import { AgolaError, toError } from './agola-error.js';
import { as } from './chain.js';
import { ErrorCodes } from './codes.js';

/** The API error kinds, as in Agola: each maps to one HTTP status. */
export const API_ERROR_KINDS = [
  'badrequest',
  'notexist',
  'forbidden',
  'unauthorized',
  'internal',
] as const;

/** One of {@link API_ERROR_KINDS}. */
export type ApiErrorKind = (typeof API_ERROR_KINDS)[number];

const STATUS_BY_KIND: Record<ApiErrorKind, number> = {
  badrequest: 400,
  notexist: 404,
  forbidden: 403,
  unauthorized: 401,
  internal: 500,
};

const CODE_BY_KIND: Record<ApiErrorKind, string> = {
  badrequest: ErrorCodes.BadRequest,
  notexist: ErrorCodes.NotExist,
  forbidden: ErrorCodes.Forbidden,
  unauthorized: ErrorCodes.Unauthorized,
  internal: ErrorCodes.Internal,
};

/** The body text of every 500: internal details go to the log, never to the client. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error';

/** HTTP status of a kind: 400, 404, 403, 401 or 500. */
export function statusOfKind(kind: ApiErrorKind): number {
  return STATUS_BY_KIND[kind];
}

/** Kind of an HTTP error status: 400, 404, 403, 401 map back; anything else is `internal`. */
export function kindOfStatus(status: number): ApiErrorKind {
  switch (status) {
    case 400:
      return 'badrequest';
    case 404:
      return 'notexist';
    case 403:
      return 'forbidden';
    case 401:
      return 'unauthorized';
    default:
      return 'internal';
  }
}

/** The default code of a kind (`ERR_BAD_REQUEST`, `ERR_NOT_EXIST`...). */
export function defaultCodeOfKind(kind: ApiErrorKind): string {
  return CODE_BY_KIND[kind];
}

/** True for a string that is one of the {@link API_ERROR_KINDS}. */
export function isApiErrorKind(value: unknown): value is ApiErrorKind {
  return typeof value === 'string' && (API_ERROR_KINDS as readonly string[]).includes(value);
}

/** Options of {@link ApiError} and its helpers. */
export interface ApiErrorOptions {
  /** Stable code sent to the client; defaults to the kind's code (`ERR_NOT_EXIST`...). */
  code?: string;
  /** The error behind this one (kept in the chain and the log, never sent to the client). */
  cause?: unknown;
  /**
   * Record the caller of this function instead of the caller of the constructor (a helper
   * that builds ApiErrors passes itself, so the frame is its caller's).
   */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  callerOf?: Function;
}

/**
 * An error that an HTTP API reports to its caller: a kind (which sets the status), a code
 * and a message that says what is wrong. Throw it from handlers; {@link toHttpError}
 * turns a chain holding one into the response.
 *
 * @example
 * ```ts
 * throw new ApiError('badrequest', 'invalid user name "1abc"', { code: 'ERR_INVALID_NAME' });
 * ```
 */
export class ApiError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/errors:ApiError');

  /** The kind, which decides the status. */
  readonly kind: ApiErrorKind;

  constructor(kind: ApiErrorKind, message: string, options: ApiErrorOptions = {}) {
    super(message, {
      code: options.code ?? CODE_BY_KIND[kind],
      cause: options.cause === undefined ? undefined : toError(options.cause),
      callerOf: options.callerOf ?? new.target,
    });
    this.kind = kind;
  }

  /** The HTTP status of {@link kind}. */
  get status(): number {
    return STATUS_BY_KIND[this.kind];
  }
}

/** A `badrequest` (400) {@link ApiError}. */
export function badRequest(message: string, options?: ApiErrorOptions): ApiError {
  return new ApiError('badrequest', message, {
    ...options,
    callerOf: options?.callerOf ?? badRequest,
  });
}

/** A `notexist` (404) {@link ApiError}. */
export function notExist(message: string, options?: ApiErrorOptions): ApiError {
  return new ApiError('notexist', message, { ...options, callerOf: options?.callerOf ?? notExist });
}

/** A `forbidden` (403) {@link ApiError}. */
export function forbidden(message: string, options?: ApiErrorOptions): ApiError {
  return new ApiError('forbidden', message, {
    ...options,
    callerOf: options?.callerOf ?? forbidden,
  });
}

/** An `unauthorized` (401) {@link ApiError}. */
export function unauthorized(message: string, options?: ApiErrorOptions): ApiError {
  return new ApiError('unauthorized', message, {
    ...options,
    callerOf: options?.callerOf ?? unauthorized,
  });
}

/** An `internal` (500) {@link ApiError}: its message is logged, never sent. */
export function internalError(message: string, options?: ApiErrorOptions): ApiError {
  return new ApiError('internal', message, {
    ...options,
    callerOf: options?.callerOf ?? internalError,
  });
}

/** The JSON body of every API error response. */
export interface ErrorBody {
  code: string;
  message: string;
}

/** What {@link toHttpError} returns: the status and the body to send. */
export interface HttpError {
  status: number;
  kind: ApiErrorKind;
  body: ErrorBody;
}

/**
 * Maps any error to an HTTP error response. The first {@link ApiError} in the chain decides
 * the status, code and message; a chain without one, or an `internal` one, is a 500 whose
 * body says only `internal server error` (log the chain itself on the server).
 *
 * @example
 * ```ts
 * const { status, body } = toHttpError(err);
 * reply.status(status).send(body);
 * ```
 */
export function toHttpError(err: unknown): HttpError {
  const apiErr = as(err, ApiError);
  if (!apiErr || apiErr.kind === 'internal') {
    return {
      status: 500,
      kind: 'internal',
      body: { code: apiErr?.code ?? ErrorCodes.Internal, message: INTERNAL_ERROR_MESSAGE },
    };
  }
  return {
    status: apiErr.status,
    kind: apiErr.kind,
    body: { code: apiErr.code, message: apiErr.ownMessage || apiErr.message },
  };
}

/** The kind of the first {@link ApiError} in the chain, else `internal`. */
export function kindOfError(err: unknown): ApiErrorKind {
  return as(err, ApiError)?.kind ?? 'internal';
}

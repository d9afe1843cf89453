export { AgolaError, NonErrorThrown, toError, compactText } from './agola-error.js';
export type { AgolaErrorOptions } from './agola-error.js';
export { newError, errorf, wrap, wrapf, withStack } from './wrap.js';
export type { WrapOptions } from './wrap.js';
export { causeChain, findCause, is, as } from './chain.js';
export { formatError, errorDetails } from './format.js';
export type { FormatOptions } from './format.js';
export type { Frame } from './frame.js';
export { createErrorSerializer, errorSerializer } from './pino.js';
export type { SerializedError, ErrorSerializerOptions } from './pino.js';
export {
  API_ERROR_KINDS,
  INTERNAL_ERROR_MESSAGE,
  ApiError,
  badRequest,
  notExist,
  forbidden,
  unauthorized,
  internalError,
  toHttpError,
  kindOfError,
  statusOfKind,
  kindOfStatus,
  defaultCodeOfKind,
  isApiErrorKind,
} from './api-error.js';
export type { ApiErrorKind, ApiErrorOptions, ErrorBody, HttpError } from './api-error.js';
export { RemoteError, parseRemoteError, errorFromResponse } from './remote-error.js';
export type { RemoteErrorInit } from './remote-error.js';
export { ErrorCodes } from './codes.js';
export type { ErrorCode } from './codes.js';

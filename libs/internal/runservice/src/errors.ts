import { badRequest, notExist, type ApiError } from '@agola-ts/errors';
import { RunserviceErrorCodes } from './codes.js';

/** A 400 for a bad request field; the message names the field. */
export function invalid(message: string): ApiError {
  return badRequest(message, { code: RunserviceErrorCodes.InvalidRequest });
}

/** A 400 for an action the run's or task's state does not allow. */
export function invalidState(message: string): ApiError {
  return badRequest(message, { code: RunserviceErrorCodes.InvalidState });
}

/** A 404 for a GET of a missing entity. */
export function notFound(message: string): ApiError {
  return notExist(message);
}

import { badRequest, notExist, type ApiError } from '@agola-ts/errors';
import { ConfigstoreErrorCodes } from './codes.js';

/** A 400 for a bad request field; the message names the field. */
export function invalid(message: string): ApiError {
  return badRequest(message, { code: ConfigstoreErrorCodes.InvalidRequest });
}

/** A 400 for a name or link that is already taken. */
export function alreadyExists(message: string): ApiError {
  return badRequest(message, { code: ConfigstoreErrorCodes.AlreadyExists });
}

/** A 400 for a mutation that refers to a missing entity. */
export function missing(message: string): ApiError {
  return badRequest(message, { code: ConfigstoreErrorCodes.MissingEntity });
}

/** A 404 for a GET of a missing entity. */
export function notFound(message: string): ApiError {
  return notExist(message);
}

import { AgolaError, is, newError, wrap } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';

/**
 * True when `err` (or any error in its cause chain) says that an object does not exist
 * (`ERR_OST_NOT_EXIST`). Matches on the code, so it works across duplicate package copies.
 *
 * @example
 * ```ts
 * try {
 *   await storage.stat('wals/data/42');
 * } catch (err) {
 *   if (isNotExist(err)) return undefined;
 *   throw err;
 * }
 * ```
 */
export function isNotExist(err: unknown): boolean {
  return is(err, OstErrorCodes.NotExist);
}

/** A not-exist error for `key`, optionally keeping the backend's error as cause. */
export function notExistError(key: string, cause?: unknown): AgolaError {
  const message = `object ${JSON.stringify(key)} does not exist`;
  return cause === undefined
    ? newError(message, { code: OstErrorCodes.NotExist })
    : wrap(cause, message, { code: OstErrorCodes.NotExist });
}

/** Wraps a backend (third-party) error, keeping it as cause. */
export function backendError(cause: unknown, message: string): AgolaError {
  return wrap(cause, message, { code: OstErrorCodes.Backend });
}

/** An error for a cancelled call, with the signal's reason as cause. */
export function abortedError(signal: AbortSignal | undefined, what: string): AgolaError {
  const reason: unknown = signal?.reason;
  return reason === undefined
    ? newError(`${what}: aborted`, { code: OstErrorCodes.Aborted })
    : wrap(reason, `${what}: aborted`, { code: OstErrorCodes.Aborted });
}

/** Throws an aborted error when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

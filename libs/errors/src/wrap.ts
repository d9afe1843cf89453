import { AgolaError, toError } from './agola-error.js';
import { formatMessage } from './printf.js';

/** Options of {@link wrap} and {@link newError}. */
export interface WrapOptions {
  /** Code of the new element; by default the cause's code is kept. */
  code?: string;
}

/**
 * Creates a root error (no cause) that records the caller's file:line and function.
 *
 * @example
 * ```ts
 * throw newError('executor not registered', { code: 'ERR_EXECUTOR_UNKNOWN' });
 * ```
 */
export function newError(message: string, options: WrapOptions = {}): AgolaError {
  return new AgolaError(message, { ...options, callerOf: newError });
}

/**
 * Like {@link newError} with `util.format`-style formatting (`%s`, `%d`, `%i`, `%f`, `%j`;
 * objects under `%s`/`%o` print as JSON).
 */
export function errorf(fmt: string, ...args: unknown[]): AgolaError {
  return new AgolaError(formatMessage(fmt, args), { callerOf: errorf });
}

/**
 * Wraps `err` with a message, recording the caller's file:line and function. Anything
 * thrown (a Node `SystemError`, an AWS SDK or gRPC error, a string) becomes the cause, so
 * nothing of the original is lost. The new element keeps the cause's code unless one is given.
 *
 * @example
 * ```ts
 * try {
 *   await readFile(path);
 * } catch (err) {
 *   throw wrap(err, `reading wal ${walSeq}`);
 * }
 * ```
 */
export function wrap(err: unknown, message: string, options: WrapOptions = {}): AgolaError {
  return new AgolaError(message, { ...options, cause: toError(err), callerOf: wrap });
}

/** Like {@link wrap} with `util.format`-style formatting of the message. */
export function wrapf(err: unknown, fmt: string, ...args: unknown[]): AgolaError {
  return new AgolaError(formatMessage(fmt, args), { cause: toError(err), callerOf: wrapf });
}

/**
 * Wraps `err` without a new message: the chain text stays the same, the chain records one
 * more frame (the caller's). Use it where a layer passes an error on unchanged.
 *
 * @example
 * ```ts
 * catch (err) { throw withStack(err); }
 * ```
 */
export function withStack(err: unknown): AgolaError {
  return new AgolaError('', { cause: toError(err), callerOf: withStack });
}

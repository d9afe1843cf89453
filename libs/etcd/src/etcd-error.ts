import { newError, wrap, type AgolaError } from '@agola-ts/errors';
import {
  ClientClosedError,
  GRPCDeadlineExceededError,
  GRPCOutOfRangeError,
  GRPCUnavailableError,
  isRecoverableError,
} from 'etcd3';
import { EtcdErrorCodes } from './codes.js';

/** True when an etcd3 error means "the revision has been compacted". */
export function isCompactedMessage(err: unknown): boolean {
  return (
    err instanceof GRPCOutOfRangeError || (err instanceof Error && /compacted/i.test(err.message))
  );
}

/**
 * Wraps an error thrown by the etcd3 package at the boundary, with a code that says what
 * kind of failure it was (unavailable, compacted, closed, other).
 */
export function wrapEtcdError(err: unknown, what: string): AgolaError {
  let code: string = EtcdErrorCodes.Failed;
  if (isCompactedMessage(err)) code = EtcdErrorCodes.Compacted;
  else if (err instanceof ClientClosedError) code = EtcdErrorCodes.Closed;
  else if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    (err instanceof Error && isRecoverableError(err))
  ) {
    code = EtcdErrorCodes.Unavailable;
  }
  return wrap(err, what, { code });
}

/** A root error with the invalid-key code. */
export function invalidKey(message: string): AgolaError {
  return newError(message, { code: EtcdErrorCodes.InvalidKey });
}

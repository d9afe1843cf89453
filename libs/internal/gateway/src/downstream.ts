import { ApiError, as, defaultCodeOfKind, RemoteError } from '@agola-ts/errors';

/**
 * Re-raises a downstream (configstore, runservice) failure for the gateway's caller: a
 * `RemoteError` in the chain becomes an `ApiError` with the same kind (so the same status),
 * code and message; a 5xx or a request that got no answer stays a 500 whose details are only
 * logged. Use it in every `catch` around a downstream call: `catch (err) { throw passThrough(err) }`.
 */
export function passThrough(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const remote = as(err, RemoteError);
  if (!remote || remote.kind === 'internal') return err;
  return new ApiError(remote.kind, remote.remoteMessage || remote.message, {
    code: remote.remoteCode || defaultCodeOfKind(remote.kind),
    cause: err,
    callerOf: passThrough,
  });
}

/** True when `err` is (or wraps) a downstream 404. */
export function isRemoteNotExist(err: unknown): boolean {
  return as(err, RemoteError)?.status === 404;
}

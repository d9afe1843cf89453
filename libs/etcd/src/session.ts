import { newError } from '@agola-ts/errors';
import type { Lease } from 'etcd3';
import type { EtcdClient } from './client.js';
import { EtcdErrorCodes } from './codes.js';
import { wrapEtcdError } from './etcd-error.js';

/**
 * A lease kept alive in the background, as etcd's concurrency session: keys written with it
 * vanish when the process dies or the lease cannot be renewed within its TTL. `signal` is
 * aborted (with an `ERR_ETCD_LOCK_LOST` reason) when the lease is lost; everything that
 * depended on it (locks) is gone then.
 */
export class EtcdSession {
  /** Lease id (decimal string). */
  readonly leaseId: string;
  /** Aborted when the lease is lost or the session closed. */
  readonly signal: AbortSignal;
  private readonly lease: Lease;
  private readonly controller: AbortController;

  private constructor(lease: Lease, leaseId: string, controller: AbortController) {
    this.lease = lease;
    this.leaseId = leaseId;
    this.controller = controller;
    this.signal = controller.signal;
  }

  /**
   * Grants a lease of `ttlSeconds` (Agola: 5) and keeps it alive.
   *
   * @throws `ERR_ETCD_UNAVAILABLE` when etcd cannot be reached.
   */
  static async create(
    client: EtcdClient,
    options: { ttlSeconds?: number } = {},
  ): Promise<EtcdSession> {
    const lease = client.raw.lease(options.ttlSeconds ?? 5);
    const controller = new AbortController();
    lease.on('lost', (err) =>
      controller.abort(
        newError(`etcd lease lost: ${err.message}`, { code: EtcdErrorCodes.LockLost }),
      ),
    );
    let leaseId: string;
    try {
      leaseId = await lease.grant();
    } catch (err) {
      lease.release();
      throw wrapEtcdError(err, 'etcd lease grant');
    }
    return new EtcdSession(lease, leaseId, controller);
  }

  /** Lease id as the lowercase hex Agola uses in lock keys. */
  get leaseIdHex(): string {
    return BigInt(this.leaseId).toString(16);
  }

  /** True once the lease is lost or the session closed. */
  get lost(): boolean {
    return this.signal.aborted;
  }

  /** Revokes the lease (its keys are deleted at once) and stops the keep-alive. */
  async close(): Promise<void> {
    if (!this.controller.signal.aborted) {
      this.controller.abort(newError('etcd session closed', { code: EtcdErrorCodes.LockLost }));
    }
    try {
      await this.lease.revoke();
    } catch {
      // already expired or etcd gone: the lease dies with its TTL anyway
      this.lease.release();
    }
  }
}

import { newError } from '@agola-ts/errors';
import type { EtcdClient } from './client.js';
import { EtcdErrorCodes } from './codes.js';
import { cmpCreateRevision, opGet, opPut } from './ops.js';
import type { EtcdSession } from './session.js';

/**
 * A lock in etcd with TryLock semantics, compatible with Agola's (etcd's concurrency
 * mutex): each contender writes `<lockPrefix>/<leaseIdHex>` bound to its session's lease,
 * and the holder is the one whose key has the lowest create revision. A dead holder's lock
 * frees itself when its lease expires; `signal` tells the holder it lost the lock.
 *
 * @example
 * ```ts
 * const session = await EtcdSession.create(etcd);
 * const lock = new EtcdMutex(etcd, session, 'datamanager/checkpointlock');
 * if (await lock.tryLock()) {
 *   try { await checkpoint({ signal: lock.signal }); } finally { await lock.unlock(); }
 * }
 * ```
 */
export class EtcdMutex {
  private readonly client: EtcdClient;
  private readonly session: EtcdSession;
  private readonly lockPrefix: string;
  private readonly myKey: string;
  private held = false;

  constructor(client: EtcdClient, session: EtcdSession, lockPrefix: string) {
    this.client = client;
    this.session = session;
    this.lockPrefix = lockPrefix.endsWith('/') ? lockPrefix : `${lockPrefix}/`;
    this.myKey = `${this.lockPrefix}${session.leaseIdHex}`;
  }

  /** Aborted when the lock is lost (its session's lease expired). */
  get signal(): AbortSignal {
    return this.session.signal;
  }

  /** True while held and the session is alive. */
  get isHeld(): boolean {
    return this.held && !this.session.lost;
  }

  /**
   * Tries to take the lock once, without waiting. Returns true when this session holds it
   * (also when it already did), false when someone else does.
   *
   * @throws `ERR_ETCD_LOCK_LOST` when the session's lease is already lost.
   */
  async tryLock(): Promise<boolean> {
    if (this.session.lost) {
      throw newError(`cannot lock ${this.lockPrefix}: etcd session lost`, {
        code: EtcdErrorCodes.LockLost,
      });
    }
    const owner = opGet(this.lockPrefix, { prefix: true, limit: 1, sortBy: 'create' });
    const res = await this.client.txn({
      compare: [cmpCreateRevision(this.myKey, '==', 0n)],
      success: [opPut(this.myKey, '', { lease: this.session.leaseId }), owner],
      failure: [owner],
    });
    const ownerResponse = res.responses[res.responses.length - 1];
    const ownerKey = ownerResponse?.type === 'get' ? ownerResponse.kvs[0]?.key : undefined;
    if (ownerKey === this.myKey) {
      this.held = true;
      return true;
    }
    // Someone else holds it: withdraw our key so we do not queue behind them.
    if (res.succeeded) await this.client.delete(this.myKey);
    this.held = false;
    return false;
  }

  /** Releases the lock (no-op when not held). */
  async unlock(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.client.delete(this.myKey);
  }
}

import { newError, wrap } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';

/** What {@link DataManager.storageSyncStatus} reports. */
export interface StorageSyncStatus {
  /** Committed wals not yet in the object storage (they live only in etcd). */
  unsyncedWals: number;
  /** Bytes of inline wal data among them (held in etcd until synced). */
  unsyncedBytes: number;
  /** When the current run of sync failures began; undefined while the sync works. */
  failingSince: Date | undefined;
  /** The last sync failure of the current run (undefined while the sync works). */
  lastError: unknown;
}

/**
 * Tracks the wals committed but not yet in the object storage (fed by the commits of this
 * instance and by the etcd watch, so it counts every instance's wals) and the health of the
 * sync: bounds the backlog for writers, and logs a sync that keeps failing at error level
 * (once per episode, then every `syncFailureLogIntervalMs`) and its recovery.
 */
export class SyncTracker {
  private readonly pending = new Map<string, number>();
  private bytes = 0;
  private failingSince: number | undefined;
  private lastError: unknown;
  private errorLoggedAt: number | undefined;
  private failures = 0;

  constructor(private readonly ctx: DataManagerContext) {}

  /** A wal is committed and not in the object storage yet (idempotent). */
  committed(walSequence: string, inlineBytes: number): void {
    if (this.pending.has(walSequence)) return;
    this.pending.set(walSequence, inlineBytes);
    this.bytes += inlineBytes;
  }

  /** A wal reached the object storage, or left etcd (idempotent). */
  synced(walSequence: string): void {
    const bytes = this.pending.get(walSequence);
    if (bytes === undefined) return;
    this.pending.delete(walSequence);
    this.bytes -= bytes;
  }

  /** Replaces the backlog with a full listing of etcd (the watcher's reload). */
  reset(unsynced: Iterable<[string, number]>): void {
    this.pending.clear();
    this.bytes = 0;
    for (const [seq, bytes] of unsynced) this.committed(seq, bytes);
  }

  /**
   * Refuses a new wal of `inlineBytes` when the backlog is at its bound.
   *
   * @throws `ERR_DATAMANAGER_UNSYNCED_LIMIT`
   */
  admit(inlineBytes: number): void {
    const { maxUnsyncedWals, maxUnsyncedBytes } = this.ctx.options;
    const count = this.pending.size;
    if (count < maxUnsyncedWals && this.bytes + inlineBytes <= maxUnsyncedBytes) return;
    const failing =
      this.failingSince !== undefined
        ? `; the sync has been failing for ${Math.round((Date.now() - this.failingSince) / 1000)} s`
        : '';
    const message = `write refused: ${count} committed wals (${this.bytes} bytes inline) are not yet in the object storage (limit ${maxUnsyncedWals} wals, ${maxUnsyncedBytes} bytes)${failing}`;
    const code = DataManagerErrorCodes.UnsyncedLimit;
    // the sync's last failure says why the object storage is behind
    throw this.lastError === undefined
      ? newError(message, { code })
      : wrap(this.lastError, message, { code });
  }

  /** A sync pass failed: warn at the first failure, error level once it lasts. */
  failed(err: unknown): void {
    const now = Date.now();
    this.lastError = err;
    this.failures++;
    const log = this.ctx.logger;
    const fields = { err, unsyncedWals: this.pending.size, unsyncedBytes: this.bytes };
    if (this.failingSince === undefined) {
      this.failingSince = now;
      log.warn(fields, 'datamanager: wal sync to the object storage failed; retrying');
      return;
    }
    const failingForMs = now - this.failingSince;
    const { syncFailureErrorAfterMs, syncFailureLogIntervalMs } = this.ctx.options;
    if (
      failingForMs >= syncFailureErrorAfterMs &&
      (this.errorLoggedAt === undefined || now - this.errorLoggedAt >= syncFailureLogIntervalMs)
    ) {
      this.errorLoggedAt = now;
      log.error(
        { ...fields, failingForMs, failures: this.failures },
        `datamanager: wal sync to the object storage failing for ${Math.round(failingForMs / 1000)} s; ${this.pending.size} committed wals exist only in etcd`,
      );
    } else {
      log.debug({ ...fields, failingForMs }, 'datamanager: wal sync to the object storage failed');
    }
  }

  /** A sync pass succeeded: logs the end of a failure episode. */
  succeeded(): void {
    if (this.failingSince === undefined) return;
    const failedForMs = Date.now() - this.failingSince;
    this.ctx.logger.info(
      { failedForMs, failures: this.failures, unsyncedWals: this.pending.size },
      `datamanager: wal sync to the object storage recovered after ${Math.round(failedForMs / 1000)} s`,
    );
    this.failingSince = undefined;
    this.errorLoggedAt = undefined;
    this.lastError = undefined;
    this.failures = 0;
  }

  /** The backlog and the sync's health now. */
  status(): StorageSyncStatus {
    return {
      unsyncedWals: this.pending.size,
      unsyncedBytes: this.bytes,
      failingSince: this.failingSince === undefined ? undefined : new Date(this.failingSince),
      lastError: this.lastError,
    };
  }
}

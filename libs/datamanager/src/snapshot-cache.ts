import { newError } from '@agola-ts/errors';
import { sleep } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import type { DataStatus } from './types.js';

/**
 * The latest data snapshot as seen by reads, cached. Two rules keep reads from going back in
 * time: a change invalidates the cache (a load started before the change is not reused), and
 * once a wal is dropped from the pending changes (cleaned from etcd) the snapshot used must
 * include it, so a read never falls back to a snapshot older than what it saw before.
 */
export class SnapshotCache {
  private value: DataStatus | undefined;
  private valueGeneration = -1;
  private loading: { generation: number; promise: Promise<DataStatus | undefined> } | undefined;
  private generation = 0;
  private required = '';

  constructor(
    private readonly load: () => Promise<DataStatus | undefined>,
    /** How long to wait for a snapshot that includes a required wal. */
    private readonly waitMs = 5000,
  ) {}

  /** Something may have changed: the next read loads the snapshot again. */
  invalidate(): void {
    this.generation++;
  }

  /** The snapshot used from now on must include this wal (it left the pending changes). */
  require(walSequence: string): void {
    if (walSequence > this.required) this.required = walSequence;
    this.invalidate();
  }

  /**
   * The current snapshot (undefined before the first checkpoint).
   * @throws `ERR_DATAMANAGER_NOT_INITIALIZED` when no snapshot including the required wal
   *   shows up in time.
   */
  async get(): Promise<DataStatus | undefined> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const generation = this.generation;
      let status: DataStatus | undefined;
      if (this.valueGeneration === generation) {
        status = this.value;
      } else {
        if (!this.loading || this.loading.generation < generation) {
          const promise = this.load();
          const entry = { generation, promise };
          this.loading = entry;
          void promise.then(
            (value) => {
              if (this.valueGeneration <= entry.generation) {
                this.value = value;
                this.valueGeneration = entry.generation;
              }
              if (this.loading === entry) this.loading = undefined;
            },
            () => {
              if (this.loading === entry) this.loading = undefined;
            },
          );
        }
        status = await this.loading.promise;
      }
      if (this.required === '' || (status !== undefined && status.walSequence >= this.required))
        return status;
      if (Date.now() > deadline) {
        throw newError(`no data snapshot includes wal ${this.required} yet`, {
          code: DataManagerErrorCodes.NotInitialized,
        });
      }
      this.invalidate();
      await sleep(20);
    }
  }
}

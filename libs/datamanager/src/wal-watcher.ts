import { is, newError } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import { EtcdErrorCodes, sleep, type WatchEvent } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { decodeWalData } from './encoding.js';
import { etcdKeys } from './paths.js';
import { Backoff } from './backoff.js';
import type { WalData } from './types.js';
import { WalChanges } from './wal-changes.js';
import { listEtcdWals, mapLimit, walActions } from './wals.js';

/**
 * Keeps a {@link WalChanges} in sync with the wals and change groups in etcd: a full load,
 * then the watch; any watch error (compaction, a dropped connection, an etcd reset) leads to
 * a new full load, swapped in at once so readers never see a half-loaded state.
 */
export class WalWatcher {
  /** The current state; replaced (not mutated in place) by a full reload. */
  changes = new WalChanges();
  private readyResolve!: () => void;
  /** Resolves after the first full load. */
  readonly ready: Promise<void> = new Promise((r) => (this.readyResolve = r));

  constructor(
    private readonly ctx: DataManagerContext,
    private readonly events: {
      /** Snapshots may have changed (a wal was checkpointed, or a reload). */
      snapshotChanged: () => void;
      /**
       * Wals up to this one left the pending changes (cleaned from etcd): readers must use a
       * snapshot that includes them.
       */
      walsDropped: (upTo: string) => void;
      /** The etcd wals not yet in the object storage, after a full load: `[seq, inline bytes]`. */
      unsyncedLoaded?: (unsynced: Array<[string, number]>) => void;
      /** A wal changed in etcd: `wal` is its new value, undefined when it was deleted. */
      walChanged?: (walSequence: string, wal: WalData | undefined) => void;
    },
  ) {}

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.ctx.options.intervals);
    while (!signal.aborted) {
      try {
        const revision = await this.load(signal);
        backoff.reset();
        for await (const res of this.ctx.etcd.watch('', { startRevision: revision + 1n, signal })) {
          for (const event of res.events) await this.apply(event, signal);
          this.changes.revision = res.revision;
        }
      } catch (err) {
        if (signal.aborted) break;
        const level = is(err, EtcdErrorCodes.Compacted) ? 'info' : 'warn';
        const delay = backoff.next();
        this.ctx.logger[level](
          { err, attempt: backoff.attempts, retryInMs: delay },
          `datamanager watcher restarting in ${delay} ms`,
        );
        await sleep(delay, signal);
      }
    }
  }

  private async load(signal: AbortSignal): Promise<bigint> {
    const { wals, revision } = await listEtcdWals(this.ctx);
    const groups = await this.ctx.etcd.list(etcdKeys.changeGroupsDir, { revision });
    const fresh = new WalChanges();
    const loaded = await mapLimit(wals, 8, async (w) => ({
      seq: w.wal.walSequence,
      actions: await walActions(this.ctx, w.wal, signal),
    }));
    for (const w of loaded) fresh.applyWal(w.seq, w.actions);
    for (const g of groups.kvs) {
      fresh.changeGroups.set(g.key.slice(etcdKeys.changeGroupsDir.length), g.modRevision);
    }
    fresh.revision = revision;
    this.changes = fresh;
    this.events.unsyncedLoaded?.(
      wals
        .filter((w) => w.wal.walStatus === 'committed')
        .map((w) => [w.wal.walSequence, w.wal.inlineData?.length ?? 0]),
    );
    this.events.snapshotChanged();
    // the wals before the first one listed are gone from etcd: snapshots must hold them
    const first = wals[0]?.wal.previousWalSequence;
    if (first) this.events.walsDropped(first);
    this.readyResolve();
    return revision;
  }

  private async apply(event: WatchEvent, signal: AbortSignal): Promise<void> {
    const key = event.kv.key;
    if (key.startsWith(etcdKeys.walsDir)) {
      const seq = key.slice(etcdKeys.walsDir.length);
      if (event.type === 'delete') {
        // cleaned from etcd: its changes are in a snapshot by now
        this.events.walChanged?.(seq, undefined);
        this.events.walsDropped(seq);
        this.changes.removeWal(seq);
        return;
      }
      const wal = decodeWalData(event.kv.value, key);
      this.events.walChanged?.(seq, wal);
      if (wal.walStatus === 'checkpointed') this.events.snapshotChanged();
      if (!this.changes.hasWal(seq)) {
        this.changes.applyWal(seq, await walActions(this.ctx, wal, signal));
      }
    } else if (key.startsWith(etcdKeys.changeGroupsDir)) {
      const name = key.slice(etcdKeys.changeGroupsDir.length);
      if (event.type === 'delete') this.changes.changeGroups.delete(name);
      else this.changes.updateChangeGroup(name, event.kv.modRevision);
    } else if (key === etcdKeys.walsData && event.type === 'delete') {
      // the datamanager state was reset (import, re-init): reload everything
      throw newError('datamanager etcd state was reset: reloading', {
        code: DataManagerErrorCodes.NotInitialized,
      });
    }
  }
}

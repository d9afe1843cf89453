import type { Action } from './types.js';

/** An action of a wal still in etcd, kept in memory until the wal is cleaned. */
export interface PendingAction {
  walSequence: string;
  action: Action & { data: Buffer };
}

/**
 * The changes of the wals that are in etcd (not yet in a data snapshot that every reader
 * can rely on), per entry: the latest action for each `(dataType, id)`, plus the revision
 * of every change group. Applying is idempotent and ordered by wal sequence, so a wal
 * applied early by the instance that committed it and later by the watcher counts once.
 */
export class WalChanges {
  /** etcd revision the state reflects. */
  revision = 0n;
  private readonly entries = new Map<string, Map<string, PendingAction>>();
  private readonly walKeys = new Map<string, Array<[string, string]>>();
  readonly changeGroups = new Map<string, bigint>();

  /** Forgets everything (before a full reload). */
  reset(): void {
    this.revision = 0n;
    this.entries.clear();
    this.walKeys.clear();
    this.changeGroups.clear();
  }

  /** True when this wal's actions are applied. */
  hasWal(walSequence: string): boolean {
    return this.walKeys.has(walSequence);
  }

  /** Number of wals held. */
  get walCount(): number {
    return this.walKeys.size;
  }

  /** Applies a wal's actions; an entry keeps the action of the newest wal that touched it. */
  applyWal(walSequence: string, actions: Array<Action & { data: Buffer }>): void {
    if (this.walKeys.has(walSequence)) return;
    const keys: Array<[string, string]> = [];
    for (const action of actions) {
      let byId = this.entries.get(action.dataType);
      if (!byId) {
        byId = new Map();
        this.entries.set(action.dataType, byId);
      }
      const cur = byId.get(action.id);
      if (cur && cur.walSequence > walSequence) continue;
      byId.set(action.id, { walSequence, action });
      keys.push([action.dataType, action.id]);
    }
    this.walKeys.set(walSequence, keys);
  }

  /** Drops a wal (cleaned from etcd: its changes are in a data snapshot by now). */
  removeWal(walSequence: string): void {
    const keys = this.walKeys.get(walSequence);
    if (!keys) return;
    this.walKeys.delete(walSequence);
    for (const [dataType, id] of keys) {
      const byId = this.entries.get(dataType);
      if (byId?.get(id)?.walSequence === walSequence) byId.delete(id);
    }
  }

  /** Records a change group's revision unless a newer one is known (events can arrive late). */
  updateChangeGroup(name: string, revision: bigint): void {
    const cur = this.changeGroups.get(name);
    if (cur === undefined || cur < revision) this.changeGroups.set(name, revision);
  }

  /** The latest pending action on an entry, if a wal in etcd touched it. */
  get(dataType: string, id: string): PendingAction | undefined {
    return this.entries.get(dataType)?.get(id);
  }
}

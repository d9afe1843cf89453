import type { Run } from '@agola-ts/types';

/** One entry: the run at a mod revision, or a tombstone (deleted at `revision`). */
interface Entry {
  run: Run | undefined;
  revision: bigint;
}

const groupPrefix = (group: string): string => (group.endsWith('/') ? group : `${group}/`);

/**
 * An in-memory index of the active runs in etcd, by id and by counter, fed by a list and then
 * the engine's watch on runs, plus this instance's own writes at once (read-your-writes). Every
 * change is applied only when newer than what the index holds (a watch event older than an own
 * write is ignored; a deleted run keeps a tombstone until the watch has passed its revision).
 * Until {@link RunIndex.reset} has been called it is not synced and callers read etcd instead.
 */
export class RunIndex {
  private readonly byId = new Map<string, Entry>();
  private readonly byCounter = new Map<number, Set<string>>();
  private readonly tombstones = new Set<string>();
  private syncedRevision = 0n;
  private isSynced = false;

  /** True once a full list has been loaded and the watch keeps the index current. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** The etcd revision the index reflects at least (0n when not synced). */
  get revision(): bigint {
    return this.isSynced ? this.syncedRevision : 0n;
  }

  /** Number of active runs held (for tests). */
  get size(): number {
    return this.byId.size - this.tombstones.size;
  }

  /** Replaces the content with a full list of the active runs read at `revision`. */
  reset(runs: { value: Run; revision: bigint }[], revision: bigint): void {
    // own writes newer than the list survive it
    const newer = [...this.byId].filter(([, e]) => e.revision > revision);
    this.byId.clear();
    this.byCounter.clear();
    this.tombstones.clear();
    for (const r of runs) this.apply(r.value.id, r.value, r.revision);
    for (const [id, e] of newer) this.apply(id, e.run, e.revision);
    this.syncedRevision = revision;
    this.isSynced = true;
  }

  /** Marks the index stale (the watch broke): readers go to etcd until the next reset. */
  unsync(): void {
    this.isSynced = false;
  }

  /**
   * Applies a put (`run`) or a delete (`undefined`) of run `id` at mod revision `revision`,
   * unless the index already holds a newer state of it.
   */
  apply(id: string, run: Run | undefined, revision: bigint): void {
    const cur = this.byId.get(id);
    if (cur && cur.revision >= revision) return;
    if (cur?.run) this.byCounter.get(cur.run.counter)?.delete(id);
    this.byId.set(id, { run, revision });
    if (run) {
      this.tombstones.delete(id);
      let ids = this.byCounter.get(run.counter);
      if (!ids) this.byCounter.set(run.counter, (ids = new Set()));
      ids.add(id);
    } else {
      this.tombstones.add(id);
    }
  }

  /** The watch delivered everything up to `revision`: tombstones at or below it go. */
  advance(revision: bigint): void {
    if (revision > this.syncedRevision) this.syncedRevision = revision;
    for (const id of this.tombstones) {
      const e = this.byId.get(id);
      if (!e || e.revision <= revision) {
        this.byId.delete(id);
        this.tombstones.delete(id);
      }
    }
  }

  /** The active run of id `id` as indexed, or undefined. */
  get(id: string): Run | undefined {
    return this.byId.get(id)?.run;
  }

  /** The active run (highest id) under group path `group` with counter `counter`, or undefined. */
  byGroupCounter(group: string, counter: number): Run | undefined {
    const gp = groupPrefix(group);
    let best: Run | undefined;
    for (const id of this.byCounter.get(counter) ?? []) {
      const run = this.byId.get(id)?.run;
      if (!run || !groupPrefix(run.group).startsWith(gp)) continue;
      if (!best || run.id > best.id) best = run;
    }
    return best;
  }
}

import type { Action, DataEntry } from './types.js';

/** Where a follower is: the last wal it applied and the etcd revision it watched up to. */
export interface SinkPosition {
  /** Last wal applied ('' when the last full sync came from a snapshot that includes none). */
  walSequence: string;
  /** etcd revision seen (0 when only the object storage was read). */
  revision: bigint;
}

/**
 * One transaction of a sink. Everything done through it between the start and the end of
 * {@link FollowSink.transaction} must be applied atomically, the position included, so a
 * follower that stops at any point resumes without duplicates or gaps.
 */
export interface SinkTransaction {
  /** Drops everything (a full resync follows in the same transaction). */
  reset(): Promise<void>;
  /** Applies a snapshot entry (a put). */
  applyEntry(entry: DataEntry): Promise<void>;
  /**
   * Applies several snapshot entries, in order (optional): a full sync hands them over in
   * runs of up to 128 when a sink has it, instead of one `applyEntry` call each. A failure
   * is reported on the first entry of the run, so a sink that can tell which entry failed
   * should leave this out.
   */
  applyEntries?(entries: readonly DataEntry[]): Promise<void>;
  /** Applies one action of a wal. */
  applyAction(action: Action & { data: Buffer }, walSequence: string): Promise<void>;
  /** Replaces every change group revision. */
  replaceChangeGroups(groups: ReadonlyMap<string, bigint>): Promise<void>;
  /** Sets one change group revision, or removes it (`undefined`: compacted). */
  setChangeGroup(name: string, revision: bigint | undefined): Promise<void>;
  /** Records the position reached. */
  setPosition(position: SinkPosition): Promise<void>;
}

/**
 * Something a datamanager keeps in sync with {@link DataManager.follow}: a read model
 * ("readdb") that controls its own transactions.
 */
export interface FollowSink {
  /** The position stored by the last committed transaction, or undefined for an empty sink. */
  position(): Promise<SinkPosition | undefined>;
  /** Runs `fn` in one transaction: commit when it returns, roll back when it throws. */
  transaction<T>(fn: (tx: SinkTransaction) => Promise<T>): Promise<T>;
}

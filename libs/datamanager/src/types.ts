/** What an action does to an entry. */
export type ActionType = 'put' | 'delete';

/** One change of a write: put or delete the entry `(dataType, id)`. */
export interface Action {
  actionType: ActionType;
  dataType: string;
  id: string;
  /** The entry's bytes (ignored for deletes). Strings are stored as UTF-8. */
  data?: Uint8Array | string;
}

/** An entry as stored in data files. */
export interface DataEntry {
  id: string;
  dataType: string;
  data: Buffer;
}

/** A data file of a snapshot: its id and the id of its last entry. */
export interface DataFileRef {
  id: string;
  lastEntryId: string;
}

/**
 * A snapshot ("data status", Agola's `DataStatus`): the data files of every type, as of the
 * last wal it includes.
 */
export interface DataStatus {
  dataSequence: string;
  /** Last wal included ('' for an import that includes none). */
  walSequence: string;
  files: Record<string, DataFileRef[]>;
}

/** Status of a wal in etcd. */
export type WalStatus = 'committed' | 'committed_storage' | 'checkpointed';

/** A wal as recorded in etcd (`datamanager/wals/<seq>`). */
export interface WalData {
  walDataFileId: string;
  walStatus: WalStatus;
  walSequence: string;
  previousWalSequence: string;
  /**
   * The wal data file's bytes, kept in etcd for a small wal until the sync loop writes the
   * file to the object storage (then it is dropped). Not in Agola's format: Agola writes the
   * data file before the commit.
   */
  inlineData?: Buffer;
}

/** A wal header in the object storage (`wals/status/<seq>.committed`). */
export interface WalHeader {
  walDataFileId: string;
  previousWalSequence: string;
}

/**
 * Optimistic concurrency token: the revision of each change group as read. A write that
 * passes it fails with `ERR_DATAMANAGER_CONCURRENCY` when any of the groups changed since.
 * A missing group is revision 0.
 */
export interface ChangeGroupsToken {
  curRevision: bigint;
  changeGroupsRevisions: Record<string, bigint>;
}

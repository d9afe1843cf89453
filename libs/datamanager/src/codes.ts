/** Error codes of `@agola-ts/datamanager` (documented in docs/errors.md). */
export const DataManagerErrorCodes = {
  /**
   * A change group in the write's token was updated by someone else since the token was
   * read (or the token is too old): re-read, re-validate and retry.
   */
  Concurrency: 'ERR_DATAMANAGER_CONCURRENCY',
  /** No entry with this data type and id. */
  NotExist: 'ERR_DATAMANAGER_NOT_EXIST',
  /** A write's actions are invalid (empty batch, unknown action type or data type, bad id). */
  InvalidAction: 'ERR_DATAMANAGER_INVALID_ACTION',
  /** A change group name is invalid (empty, contains `/`, longer than 256 characters). */
  InvalidChangeGroup: 'ERR_DATAMANAGER_INVALID_CHANGE_GROUP',
  /** The datamanager options are invalid. */
  InvalidOptions: 'ERR_DATAMANAGER_INVALID_OPTIONS',
  /** The datamanager is not started (or stopped). */
  NotStarted: 'ERR_DATAMANAGER_NOT_STARTED',
  /** The wal chain in the object storage has a hole: a wal header names a previous wal that is missing. */
  WalsGap: 'ERR_DATAMANAGER_WALS_GAP',
  /** A stored file (wal, data file, index, data status) cannot be parsed. */
  Corrupt: 'ERR_DATAMANAGER_CORRUPT',
  /**
   * A follower found that its sink cannot be brought up to date incrementally (etcd was reset,
   * the watch revision was compacted, a wal is missing from the chain): it resyncs fully.
   */
  ResyncNeeded: 'ERR_DATAMANAGER_RESYNC_NEEDED',
  /** Import is only allowed on a datamanager started in maintenance mode. */
  NotInMaintenance: 'ERR_DATAMANAGER_NOT_IN_MAINTENANCE',
  /** An import stream is invalid (not grouped by data type, unsorted, duplicate ids, bad JSON). */
  InvalidImport: 'ERR_DATAMANAGER_INVALID_IMPORT',
  /** Maintenance mode was asked to be enabled while enabled, or disabled while disabled. */
  MaintenanceState: 'ERR_DATAMANAGER_MAINTENANCE_STATE',
  /**
   * A follower's sink failed to apply an entry (a wal action or a snapshot entry) on every
   * attempt: the follower stopped (the error names the data type, id and wal).
   */
  SinkApply: 'ERR_DATAMANAGER_SINK_APPLY',
  /**
   * Acknowledged wals were lost: a follower had applied them, but etcd lost them (wiped)
   * before they reached the object storage. Logged at error level; services report it on
   * their health route for a while.
   */
  WalsLost: 'ERR_DATAMANAGER_WALS_LOST',
  /** etcd holds no datamanager state yet (it is being initialized). */
  NotInitialized: 'ERR_DATAMANAGER_NOT_INITIALIZED',
  /** `start({ signal })` was aborted before the datamanager was ready (the cause is the last failure). */
  StartAborted: 'ERR_DATAMANAGER_START_ABORTED',
  /**
   * etcd holds the datamanager state of another object storage (or another base path): the
   * last wal etcd says is in the object storage is not there, or names another data file.
   */
  StorageMismatch: 'ERR_DATAMANAGER_STORAGE_MISMATCH',
  /**
   * Too many committed wals are not yet in the object storage (`maxUnsyncedWals` /
   * `maxUnsyncedBytes`): the object storage is failing or too slow; writes are refused until
   * the sync catches up.
   */
  UnsyncedLimit: 'ERR_DATAMANAGER_UNSYNCED_LIMIT',
} as const;

// Agola's layout, under the base path of the object storage and under the datamanager's
// etcd prefix (reference §2.3 and §2.4): data written by Agola v0.7 stays readable.

/** Object storage paths (relative to the datamanager's base path). */
export const ostPaths = {
  walDataDir: 'wals/data/',
  walStatusDir: 'wals/status/',
  dataDir: 'data/',
  walData: (fileId: string) => `wals/data/${fileId}`,
  walHeader: (walSeq: string) => `wals/status/${walSeq}.committed`,
  /**
   * Ours, not Agola's (Agola never reads it): the sync batches, one durable object per sync
   * pass holding every header (and inline data) of the pass, named by its last wal. The
   * per-wal objects above are written from it without an fsync each.
   */
  walBatchesDir: 'wals/batches/',
  walBatch: (lastWalSeq: string) => `wals/batches/${lastWalSeq}.batch`,
  dataStatus: (dataSeq: string) => `data/${dataSeq}.status`,
  dataFile: (dataType: string, fileId: string) => `data/${dataType}/${fileId}.data`,
  dataIndex: (dataType: string, fileId: string) => `data/${dataType}/${fileId}.index`,
};

/** A wal header file name: `<walSeq>.committed` (legacy `.checkpointed` ones are skipped). */
export const WAL_HEADER_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.committed$/;
/** A legacy wal header file name. */
export const LEGACY_WAL_HEADER_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.checkpointed$/;
/** A sync batch file name: `<lastWalSeq>.batch`. */
export const WAL_BATCH_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.batch$/;
/** A data status file name. */
export const DATA_STATUS_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.status$/;
/** A data or index file name: `<dataSeq>-<uuid>.(data|index)`. */
export const DATA_FILE_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)-([a-zA-Z0-9-]+)\.(data|index)$/;

/** etcd keys, relative to the datamanager's etcd prefix (`<service>/datamanager/`). */
export const etcdKeys = {
  walsDir: 'wals/',
  wal: (walSeq: string) => `wals/${walSeq}`,
  walsData: 'walsdata',
  walSeq: 'walseq',
  checkpointSeq: 'checkpointseq',
  lastCommittedStorageWalSeq: 'lastcommittedstoragewalseq',
  changeGroupsDir: 'changegroups/',
  changeGroup: (name: string) => `changegroups/${name}`,
  changeGroupsMinRev: 'changegroupsminrev',
  ping: 'ping',
  locks: {
    initEtcd: 'initetcd',
    sync: 'synclock',
    compactChangeGroups: 'compactchangegroupslock',
    checkpoint: 'checkpointlock',
    walCleaner: 'walcleanerlock',
    storageWalCleaner: 'storagewalcleanerlock',
  },
};

/** Every lock prefix (kept when the datamanager's etcd state is reset). */
export const LOCK_PREFIXES = Object.values(etcdKeys.locks);

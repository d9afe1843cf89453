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
   * Ours, not Agola's (Agola ignores it): the last wal of the last finished sync pass; every
   * wal up to it has its header (the chain has no hole up to it).
   */
  lastSynced: 'wals/lastsynced',
  dataStatus: (dataSeq: string) => `data/${dataSeq}.status`,
  dataFile: (dataType: string, fileId: string) => `data/${dataType}/${fileId}.data`,
  dataIndex: (dataType: string, fileId: string) => `data/${dataType}/${fileId}.index`,
};

/** A wal header file name: `<walSeq>.committed` (legacy `.checkpointed` ones are skipped). */
export const WAL_HEADER_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.committed$/;
/** A legacy wal header file name. */
export const LEGACY_WAL_HEADER_RE = /^([a-zA-Z0-9]+-[a-zA-Z0-9]+)\.checkpointed$/;
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

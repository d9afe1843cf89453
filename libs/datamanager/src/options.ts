import { newError } from '@agola-ts/errors';
import type { EtcdClient, Logger } from '@agola-ts/etcd';
import type { ObjectStorage } from '@agola-ts/ost';
import { DataManagerErrorCodes } from './codes.js';

/** Options of {@link createDataManager}. Timings default to Agola v0.7's. */
export interface DataManagerOptions {
  /** etcd client of the service (prefix `configstore/`); the datamanager uses `datamanager/` under it. */
  etcd: EtcdClient;
  /** The object storage; the datamanager keeps everything under `basePath` in it. */
  ost: ObjectStorage;
  /** Path in the object storage (`configdata`, `rundata`); a trailing `/` is added. Must not be empty. */
  basePath: string;
  /** The data types, in the order exports list them. */
  dataTypes: readonly string[];
  /** pino-compatible logger. @default silent */
  logger?: Logger;
  /** Data files are split so none grows past this (an entry larger than it gets its own file). @default 10 MiB */
  maxDataFileSize?: number;
  /** Wals kept in etcd after they are checkpointed. @default 100 */
  etcdWalsKeepNum?: number;
  /** A checkpoint waits for this many new wals unless forced. @default 100 */
  minCheckpointWalsNum?: number;
  /** Data snapshots kept by the checkpoint cleaner. @default 3 */
  checkpointsToKeep?: number;
  /** Change group revisions older than this many etcd revisions are compacted (tokens that old are refused). @default 1000 */
  changeGroupsRevisionRange?: number;
  /** Wal data files that no wal refers to are deleted once older than this (a crash between the data write and the commit leaves one). @default 3600000 */
  orphanWalDataGraceMs?: number;
  /**
   * A wal whose data is at most this many bytes is committed with its data inline in etcd
   * (one etcd transaction, no object storage write before the commit); the sync then writes
   * it into a sync batch in the object storage and drops the inline copy. Larger
   * wals write their data file first, as Agola does. 0 disables inlining. @default 65536
   */
  inlineWalMaxBytes?: number;
  /** Most wals committed in one etcd transaction (also bounded by etcd's 128 ops per transaction). @default 64 */
  maxWalsPerCommit?: number;
  /**
   * Most committed wals that may wait for the object storage (they live only in etcd until
   * synced). Past it, writes fail with `ERR_DATAMANAGER_UNSYNCED_LIMIT` until the sync catches
   * up (the bound is checked before a write, so the writes in flight may pass it by a batch).
   * @default 10000
   */
  maxUnsyncedWals?: number;
  /** Most bytes of inline wal data that may wait in etcd for the object storage (as above). @default 67108864 (64 MiB) */
  maxUnsyncedBytes?: number;
  /**
   * A commit's sync to the object storage starts this long after it, so the commits of that
   * moment share one pass (fewer object storage and etcd writes per wal; a wal stays that
   * much longer in etcd only). @default 10
   */
  syncDelayMs?: number;
  /** A sync failing for this long is logged at error level (once, then every `syncFailureLogIntervalMs`). @default 5000 */
  syncFailureErrorAfterMs?: number;
  /** While the sync keeps failing, the error line is repeated this often. @default 60000 */
  syncFailureLogIntervalMs?: number;
  /** Lease TTL of the datamanager's locks. @default 5 */
  lockTtlSeconds?: number;
  /** Loop intervals in milliseconds. */
  intervals?: Partial<DataManagerIntervals>;
  /**
   * Start in maintenance mode: no loop, no watcher, no etcd initialization; only `export`
   * and `import` are available (see `runMaintenanceAware`). @default false
   */
  maintenanceMode?: boolean;
}

/** Loop intervals in milliseconds. */
export interface DataManagerIntervals {
  /** Wal headers to the object storage. @default 5000 */
  sync: number;
  /** Checkpoint. @default 10000 */
  checkpoint: number;
  /** Checkpoint clean. @default 300000 */
  checkpointClean: number;
  /** etcd wal cleaner. @default 2000 */
  etcdWalCleaner: number;
  /** Object storage wal cleaner. @default 300000 */
  storageWalCleaner: number;
  /** Change group compaction. @default 1000 */
  compactChangeGroups: number;
  /** etcd pinger. @default 1000 */
  ping: number;
  /**
   * First retry delay after a failure of start, init or the watcher (doubled at each failure
   * up to `retryMax`); also how often etcd is checked for a reset. @default 1000
   */
  retry: number;
  /** Cap of the retry backoff. @default 10000 */
  retryMax: number;
}

/** Options with every default filled in. */
export interface ResolvedOptions extends Required<
  Omit<DataManagerOptions, 'logger' | 'intervals'>
> {
  logger: Logger | undefined;
  intervals: DataManagerIntervals;
}

const DATA_TYPE_RE = /^[a-zA-Z0-9_-]+$/;

/** Fills defaults and checks the options. @throws `ERR_DATAMANAGER_INVALID_OPTIONS` */
export function resolveOptions(options: DataManagerOptions): ResolvedOptions {
  const bad = (msg: string) =>
    newError(`datamanager options: ${msg}`, { code: DataManagerErrorCodes.InvalidOptions });
  let end = options.basePath.length;
  // a loop, not /\/+$/: the regex is quadratic on a long run of slashes
  while (end > 0 && options.basePath.charCodeAt(end - 1) === 0x2f) end--;
  const basePath = options.basePath.slice(0, end);
  if (!basePath) throw bad('basePath must not be empty (data is never stored at the storage root)');
  if (options.dataTypes.length === 0) throw bad('dataTypes must not be empty');
  for (const t of options.dataTypes) {
    if (!DATA_TYPE_RE.test(t))
      throw bad(`data type ${JSON.stringify(t)} must match ${DATA_TYPE_RE}`);
  }
  if (new Set(options.dataTypes).size !== options.dataTypes.length)
    throw bad('dataTypes has duplicates');
  const positive = (name: string, v: number | undefined, dflt: number) => {
    const value = v ?? dflt;
    if (!Number.isFinite(value) || value <= 0) throw bad(`${name} must be a positive number`);
    return value;
  };
  const nonNegative = (name: string, v: number | undefined, dflt: number) => {
    const value = v ?? dflt;
    if (!Number.isFinite(value) || value < 0) throw bad(`${name} must be zero or more`);
    return value;
  };
  const i = options.intervals ?? {};
  return {
    etcd: options.etcd,
    ost: options.ost,
    basePath,
    dataTypes: options.dataTypes,
    logger: options.logger,
    maxDataFileSize: positive('maxDataFileSize', options.maxDataFileSize, 10 * 1024 * 1024),
    etcdWalsKeepNum: positive('etcdWalsKeepNum', options.etcdWalsKeepNum, 100),
    minCheckpointWalsNum: positive('minCheckpointWalsNum', options.minCheckpointWalsNum, 100),
    checkpointsToKeep: positive('checkpointsToKeep', options.checkpointsToKeep, 3),
    changeGroupsRevisionRange: positive(
      'changeGroupsRevisionRange',
      options.changeGroupsRevisionRange,
      1000,
    ),
    orphanWalDataGraceMs: positive('orphanWalDataGraceMs', options.orphanWalDataGraceMs, 3_600_000),
    maintenanceMode: options.maintenanceMode ?? false,
    inlineWalMaxBytes: nonNegative('inlineWalMaxBytes', options.inlineWalMaxBytes, 65_536),
    maxWalsPerCommit: positive('maxWalsPerCommit', options.maxWalsPerCommit, 64),
    lockTtlSeconds: positive('lockTtlSeconds', options.lockTtlSeconds, 5),
    maxUnsyncedWals: positive('maxUnsyncedWals', options.maxUnsyncedWals, 10_000),
    maxUnsyncedBytes: positive('maxUnsyncedBytes', options.maxUnsyncedBytes, 64 * 1024 * 1024),
    syncDelayMs: nonNegative('syncDelayMs', options.syncDelayMs, 10),
    syncFailureErrorAfterMs: nonNegative(
      'syncFailureErrorAfterMs',
      options.syncFailureErrorAfterMs,
      5000,
    ),
    syncFailureLogIntervalMs: positive(
      'syncFailureLogIntervalMs',
      options.syncFailureLogIntervalMs,
      60_000,
    ),
    intervals: {
      sync: positive('intervals.sync', i.sync, 5000),
      checkpoint: positive('intervals.checkpoint', i.checkpoint, 10_000),
      checkpointClean: positive('intervals.checkpointClean', i.checkpointClean, 300_000),
      etcdWalCleaner: positive('intervals.etcdWalCleaner', i.etcdWalCleaner, 2000),
      storageWalCleaner: positive('intervals.storageWalCleaner', i.storageWalCleaner, 300_000),
      compactChangeGroups: positive('intervals.compactChangeGroups', i.compactChangeGroups, 1000),
      ping: positive('intervals.ping', i.ping, 1000),
      retry: positive('intervals.retry', i.retry, 1000),
      // the cap is never below the first delay
      retryMax: Math.max(
        positive('intervals.retryMax', i.retryMax, 10_000),
        positive('intervals.retry', i.retry, 1000),
      ),
    },
  };
}

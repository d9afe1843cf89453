import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { is, newError, withStack, wrap } from '@agola-ts/errors';
import { sleep } from '@agola-ts/etcd';
import { isNotExist, withBasePath } from '@agola-ts/ost';
import { checkpoint } from './checkpoint.js';
import {
  cleanCheckpoints,
  cleanEtcdWals,
  cleanStorageWals,
  compactChangeGroups,
} from './cleaners.js';
import { DataManagerErrorCodes } from './codes.js';
import { validateChangeGroupName } from './change-groups.js';
import { Committer, type CommitRequest } from './committer.js';
import { silentLogger, type DataManagerContext } from './context.js';
import { DataFileReader, fileForId, latestDataStatus } from './data-files.js';
import { encodeAction } from './encoding.js';
import { initEtcd } from './init-etcd.js';
import { resolveOptions, type DataManagerOptions, type ResolvedOptions } from './options.js';
import { etcdKeys, ostPaths } from './paths.js';
import type { SnapshotResult } from './snapshot.js';
import { syncWalHeaders } from './sync.js';
import type { Action, ChangeGroupsToken, DataStatus } from './types.js';
import { WalWatcher } from './wal-watcher.js';
import { Locks } from './locks.js';
import { SnapshotCache } from './snapshot-cache.js';
import { follow, type FollowOptions } from './follow.js';
import type { FollowSink } from './sink.js';
import { exportStream, importStream, type ImportResult } from './export-import.js';
import type { Readable } from 'node:stream';

/** What {@link DataManager.write} returns. */
export interface WriteResult {
  /** Sequence of the wal that holds the write. */
  walSequence: string;
  /** The change groups of the input token at the revision of this write (for chained writes). */
  changeGroupsToken: ChangeGroupsToken;
}

/** What {@link DataManager.readObject} returns. */
export interface ReadObjectResult {
  data: Buffer;
  /** Token for the requested change groups, to pass to a following write. */
  changeGroupsToken: ChangeGroupsToken;
}

/** Test hooks (not part of the stable API). */
export interface DataManagerHooks {
  /** Called after a wal data file is written and before it is committed in etcd. */
  afterWalDataWritten?: (walDataFileId: string) => Promise<void> | void;
  /** Called when work under a lock starts and ends on this instance. */
  lockedWork?: (lockKey: string, phase: 'start' | 'end') => void;
}

type LoopName =
  | 'sync'
  | 'checkpoint'
  | 'checkpointClean'
  | 'etcdWalCleaner'
  | 'storageWalCleaner'
  | 'compactChangeGroups';

const MAX_ID_LENGTH = 1024;
/** A sync after a commit that finds the lock busy retries this often, this far apart. */
const SYNC_BUSY_RETRIES = 100;
const SYNC_BUSY_DELAY_MS = 25;

/**
 * A database of entries `(dataType, id) -> bytes` whose durable truth is in object storage,
 * coordinated through etcd, so several instances can serve one dataset. See the README for
 * the model. Create it with {@link createDataManager}, then {@link start} it.
 */
export class DataManager {
  private readonly options: ResolvedOptions;
  private readonly ctx: DataManagerContext;
  private readonly reader: DataFileReader;
  private readonly committer: Committer;
  private readonly watcher: WalWatcher;
  private controller: AbortController | undefined;
  private tasks: Promise<void>[] = [];
  private readonly snapshot: SnapshotCache;
  private syncRunning: Promise<void> | undefined;
  private syncAgain = false;
  private readonly locks: Locks;
  /** Test hooks. @internal */
  hooks: DataManagerHooks = {};

  constructor(options: DataManagerOptions) {
    this.options = resolveOptions(options);
    this.ctx = {
      etcd: this.options.etcd.withPrefix('datamanager/'),
      ost: withBasePath(this.options.ost, `${this.options.basePath}/`),
      options: this.options,
      logger: this.options.logger ?? silentLogger,
    };
    this.locks = new Locks(this.ctx.etcd, this.options.lockTtlSeconds, (key, phase) =>
      this.hooks.lockedWork?.(key, phase),
    );
    this.reader = new DataFileReader(this.ctx.ost);
    this.snapshot = new SnapshotCache(() => latestDataStatus(this.ctx.ost));
    this.watcher = new WalWatcher(this.ctx, {
      snapshotChanged: () => this.snapshot.invalidate(),
      walsDropped: (upTo) => this.snapshot.require(upTo),
    });
    this.committer = new Committer(this.ctx, (wals, revision) => this.committed(wals, revision));
  }

  /** The configured data types, in order. */
  get dataTypes(): readonly string[] {
    return this.options.dataTypes;
  }

  /**
   * Starts the instance: initializes etcd if it is new or was reset (retrying until it
   * succeeds or `stop()`), loads the pending wals, then starts the background loops.
   */
  async start(): Promise<void> {
    if (this.controller) return;
    const controller = new AbortController();
    // every loop, the watcher and in-flight storage calls listen on this one signal
    setMaxListeners(0, controller.signal);
    this.controller = controller;
    const { signal } = controller;
    // in maintenance mode nothing runs: only export and import are served
    if (this.options.maintenanceMode) return;
    await this.ensureInitialized(signal, true);
    if (signal.aborted) return;
    this.tasks.push(this.watcher.run(signal));
    await Promise.race([this.watcher.ready, aborted(signal)]);
    if (signal.aborted) return;
    const i = this.options.intervals;
    this.tasks.push(
      this.loop('sync', etcdKeys.locks.sync, i.sync, (s) => syncWalHeaders(this.ctx, s)),
      this.loop('checkpoint', etcdKeys.locks.checkpoint, i.checkpoint, (s) =>
        this.checkpointLocked(false, s),
      ),
      this.loop('checkpointClean', etcdKeys.locks.checkpoint, i.checkpointClean, (s) =>
        cleanCheckpoints(this.ctx, s),
      ),
      this.loop('etcdWalCleaner', etcdKeys.locks.walCleaner, i.etcdWalCleaner, () =>
        cleanEtcdWals(this.ctx),
      ),
      this.loop('storageWalCleaner', etcdKeys.locks.storageWalCleaner, i.storageWalCleaner, (s) =>
        cleanStorageWals(this.ctx, s),
      ),
      this.loop(
        'compactChangeGroups',
        etcdKeys.locks.compactChangeGroups,
        i.compactChangeGroups,
        () => compactChangeGroups(this.ctx),
      ),
      this.every(i.ping, async () => void (await this.ctx.etcd.put(etcdKeys.ping, ''))),
      this.every(i.retry, () => this.ensureInitialized(signal, false)),
    );
  }

  /** Stops the loops and the watcher and releases the instance's locks. */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    controller.abort();
    await Promise.allSettled(this.tasks);
    await this.syncRunning;
    this.tasks = [];
    this.controller = undefined;
    await this.locks.close();
  }

  /**
   * Writes a batch of actions as one wal: its data file goes to the object storage, then one
   * etcd transaction checks the token's change groups and records the wal. Returns the new
   * token. Concurrent writes are committed together (group commit); writes on different change
   * groups never fail because of each other.
   *
   * @throws `ERR_DATAMANAGER_CONCURRENCY` when a change group of the token changed since it
   *   was read (retry from the read); `ERR_DATAMANAGER_INVALID_ACTION`;
   *   `ERR_DATAMANAGER_INVALID_CHANGE_GROUP`.
   */
  async write(actions: Action[], token?: ChangeGroupsToken): Promise<WriteResult> {
    this.requireStarted();
    this.requireNormalMode('write');
    const normalized = this.validateActions(actions);
    for (const name of Object.keys(token?.changeGroupsRevisions ?? {}))
      validateChangeGroupName(name);
    const walDataFileId = randomUUID();
    const walData = Buffer.from(normalized.map(encodeAction).join(''));
    let inlineData: Buffer | undefined;
    if (walData.length <= this.options.inlineWalMaxBytes) {
      // small wal: its data goes inline in the commit transaction; the sync loop writes the file
      inlineData = walData;
    } else {
      try {
        await this.ctx.ost.write(ostPaths.walData(walDataFileId), walData, { persist: true });
      } catch (err) {
        throw wrap(err, 'writing wal data file');
      }
      await this.hooks.afterWalDataWritten?.(walDataFileId);
    }
    const request: CommitRequest = { walDataFileId, inlineData, actions: normalized, token };
    let deadline = 0;
    for (;;) {
      try {
        const res = await this.committer.submit(request);
        return { walSequence: res.walSequence, changeGroupsToken: res.changeGroupsToken };
      } catch (err) {
        // etcd was reset under us: wait (bounded) for the instance to re-initialize it
        if (!is(err, DataManagerErrorCodes.NotInitialized)) throw withStack(err);
        deadline ||= Date.now() + 30_000;
        if (Date.now() > deadline || !this.controller) throw withStack(err);
        await sleep(this.options.intervals.retry, this.controller.signal);
      }
    }
  }

  /**
   * The latest committed value of an entry: pending (not yet checkpointed) wals first, then
   * the last data snapshot. A deleted entry is not-exist even before a checkpoint.
   *
   * @throws `ERR_DATAMANAGER_NOT_EXIST`
   */
  async read(dataType: string, id: string): Promise<Buffer> {
    this.requireStarted();
    this.requireNormalMode('read');
    await this.watcher.ready;
    const pending = this.watcher.changes.get(dataType, id);
    if (pending) {
      if (pending.action.actionType === 'delete') throw notExist(dataType, id);
      return pending.action.data;
    }
    const entry = await this.readSnapshotEntry(dataType, id);
    if (!entry) throw notExist(dataType, id);
    return entry;
  }

  /**
   * Like {@link read}, also returning a token of the given change groups as of the read, for
   * a following {@link write}.
   */
  async readObject(
    dataType: string,
    id: string,
    changeGroups: string[],
  ): Promise<ReadObjectResult> {
    const token = this.changeGroupsToken(changeGroups);
    const data = await this.read(dataType, id);
    return { data, changeGroupsToken: token };
  }

  /** A token of the given change groups as this instance knows them now (missing groups are 0). */
  changeGroupsToken(changeGroups: string[]): ChangeGroupsToken {
    const changes = this.watcher.changes;
    const changeGroupsRevisions: Record<string, bigint> = {};
    for (const name of changeGroups) {
      validateChangeGroupName(name);
      changeGroupsRevisions[name] = changes.changeGroups.get(name) ?? 0n;
    }
    return { curRevision: changes.revision, changeGroupsRevisions };
  }

  /**
   * Runs a checkpoint now under the checkpoint lock (waiting for it). With `force`, even when
   * fewer than `minCheckpointWalsNum` wals are waiting. Headers are synced first.
   */
  async checkpoint(options: { force?: boolean } = {}): Promise<SnapshotResult | undefined> {
    this.requireStarted();
    const signal = this.controller!.signal;
    await this.locks.run(etcdKeys.locks.sync, () => syncWalHeaders(this.ctx, signal), signal);
    return this.locks.run(
      etcdKeys.locks.checkpoint,
      () => this.checkpointLocked(options.force ?? false, signal),
      signal,
    );
  }

  /**
   * Keeps `sink` in sync with this datamanager until `options.signal` aborts (see the README:
   * full sync, then object storage wals, then etcd wals, then the watch; a reset, a compacted
   * watch or a wals gap leads to a clean full resync).
   */
  async follow(sink: FollowSink, options: FollowOptions = {}): Promise<void> {
    this.requireStarted();
    this.requireNormalMode('follow');
    await follow(this.ctx, sink, options);
  }

  /**
   * A stream of the latest data in Agola's export format (concatenated `{id, data_type,
   * data}` entries, data types in the configured order, ids sorted), after a forced
   * checkpoint. Works in both modes.
   */
  async export(options: { signal?: AbortSignal } = {}): Promise<Readable> {
    this.requireStarted();
    // a checkpoint that wrote nothing new leaves the latest snapshot as it is
    const written = await this.checkpoint({ force: true });
    const status = written?.status ?? (await latestDataStatus(this.ctx.ost, options.signal));
    return exportStream(this.ctx, status, options.signal);
  }

  /**
   * Replaces the data with an export stream (maintenance mode only). The stream is validated
   * (grouped by data type, sorted, no duplicates) while it is written; a bad stream changes
   * nothing. etcd's state is then reset to the imported snapshot in a new epoch, so every
   * follower resyncs fully.
   *
   * @throws `ERR_DATAMANAGER_NOT_IN_MAINTENANCE`; `ERR_DATAMANAGER_INVALID_IMPORT`
   */
  async import(
    input: AsyncIterable<Uint8Array | string>,
    options: { signal?: AbortSignal } = {},
  ): Promise<ImportResult> {
    this.requireStarted();
    if (!this.options.maintenanceMode) {
      throw newError('import is only allowed in maintenance mode', {
        code: DataManagerErrorCodes.NotInMaintenance,
      });
    }
    const signal = options.signal ?? this.controller!.signal;
    const result = await this.locks.run(
      etcdKeys.locks.initEtcd,
      () => importStream(this.ctx, input, signal),
      signal,
    );
    this.committer.invalidate();
    this.snapshot.invalidate();
    return result;
  }

  /** Runs every cleaner once now (under their locks); for tests and maintenance. */
  async clean(): Promise<void> {
    this.requireStarted();
    const signal = this.controller!.signal;
    await this.locks.run(
      etcdKeys.locks.checkpoint,
      () => cleanCheckpoints(this.ctx, signal),
      signal,
    );
    await this.locks.run(etcdKeys.locks.walCleaner, () => cleanEtcdWals(this.ctx), signal);
    await this.locks.run(
      etcdKeys.locks.storageWalCleaner,
      () => cleanStorageWals(this.ctx, signal),
      signal,
    );
  }

  /** The latest data snapshot (cached until a checkpoint or a cleaned wal makes it stale). */
  async currentDataStatus(): Promise<DataStatus | undefined> {
    return this.snapshot.get();
  }

  /** How many times each locked loop ran its work on this instance (observability, tests). */
  lockedRuns(): Record<string, number> {
    return this.locks.runs();
  }

  private async readSnapshotEntry(dataType: string, id: string): Promise<Buffer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const status = await this.currentDataStatus();
      const files = status?.files[dataType];
      if (!files || files.length === 0) return undefined;
      const file = fileForId(files, id)!;
      try {
        return (await this.reader.readEntry(dataType, file.id, id))?.data;
      } catch (err) {
        // the cached snapshot was cleaned away meanwhile: reload it once
        if (attempt === 0 && isNotExist(err)) {
          this.snapshot.invalidate();
          continue;
        }
        throw wrap(err, `reading ${dataType}/${id}`);
      }
    }
  }

  private validateActions(actions: Action[]): Array<Action & { data: Buffer }> {
    const bad = (msg: string) => newError(msg, { code: DataManagerErrorCodes.InvalidAction });
    if (!Array.isArray(actions) || actions.length === 0)
      throw bad('a write needs at least one action');
    return actions.map((a, i) => {
      if (a.actionType !== 'put' && a.actionType !== 'delete') {
        throw bad(`action ${i}: unknown action type ${JSON.stringify(a.actionType)}`);
      }
      if (!this.options.dataTypes.includes(a.dataType)) {
        throw bad(`action ${i}: unknown data type ${JSON.stringify(a.dataType)}`);
      }
      if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > MAX_ID_LENGTH) {
        throw bad(`action ${i}: id must be 1 to ${MAX_ID_LENGTH} characters`);
      }
      const data =
        a.actionType === 'put'
          ? typeof a.data === 'string'
            ? Buffer.from(a.data)
            : Buffer.from(a.data ?? new Uint8Array())
          : Buffer.alloc(0);
      return { actionType: a.actionType, dataType: a.dataType, id: a.id, data };
    });
  }

  private committed(
    wals: Array<{ walSequence: string; request: CommitRequest }>,
    revision: bigint,
  ): void {
    const changes = this.watcher.changes;
    for (const w of wals) {
      changes.applyWal(w.walSequence, w.request.actions);
      // read-your-writes for tokens too: the watcher may deliver this commit a bit later
      for (const name of Object.keys(w.request.token?.changeGroupsRevisions ?? {})) {
        changes.updateChangeGroup(name, revision);
      }
    }
    // headers to the object storage right away (best effort; the sync loop catches up)
    this.triggerSync();
  }

  /**
   * Syncs wal headers to the object storage soon after a commit. When the sync lock is busy
   * (the sync loop or another instance is syncing, maybe from a listing made before this
   * commit), it tries again shortly, so a new wal never waits for the next loop interval.
   */
  private triggerSync(): void {
    if (this.syncRunning) {
      this.syncAgain = true;
      return;
    }
    const signal = this.controller?.signal;
    if (!signal) return;
    this.syncRunning = (async () => {
      let busy = 0;
      do {
        this.syncAgain = false;
        try {
          const ran = await this.locks.tryRun(etcdKeys.locks.sync, () =>
            syncWalHeaders(this.ctx, signal),
          );
          if (ran === undefined && busy++ < SYNC_BUSY_RETRIES) {
            this.syncAgain = true;
            await sleep(SYNC_BUSY_DELAY_MS, signal);
          }
        } catch (err) {
          this.ctx.logger.debug({ err }, 'wal header sync failed (the sync loop retries)');
        }
      } while (this.syncAgain && !signal.aborted);
    })().finally(() => (this.syncRunning = undefined));
  }

  private async checkpointLocked(
    force: boolean,
    signal: AbortSignal,
  ): Promise<SnapshotResult | undefined> {
    const result = await checkpoint(this.ctx, { force, signal });
    if (result) this.snapshot.invalidate();
    return result;
  }

  private async ensureInitialized(signal: AbortSignal, untilDone: boolean): Promise<void> {
    for (;;) {
      try {
        const walsData = await this.ctx.etcd.get(etcdKeys.walsData);
        if (walsData.kv) return;
        const done = await this.locks.tryRun(etcdKeys.locks.initEtcd, async () => {
          const res = await initEtcd(this.ctx, { signal });
          this.committer.invalidate();
          if (res.initialized) await this.checkpointAfterInit(signal);
          return true;
        });
        if (done) return;
      } catch (err) {
        if (signal.aborted) return;
        this.ctx.logger.warn({ err }, 'datamanager etcd init failed; retrying');
        if (!untilDone) return;
      }
      if (signal.aborted) return;
      await sleep(this.options.intervals.retry, signal);
      if (!untilDone) return;
    }
  }

  private async checkpointAfterInit(signal: AbortSignal): Promise<void> {
    await this.locks.run(
      etcdKeys.locks.checkpoint,
      () => this.checkpointLocked(true, signal),
      signal,
    );
  }

  private loop(
    name: LoopName,
    lockKey: string,
    intervalMs: number,
    fn: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    return this.every(intervalMs, async (signal) => {
      try {
        await this.locks.tryRun(lockKey, () => fn(signal));
      } catch (err) {
        if (!signal.aborted)
          this.ctx.logger.warn({ err, loop: name }, `datamanager ${name} failed`);
      }
    });
  }

  private async every(
    intervalMs: number,
    fn: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    const signal = this.controller!.signal;
    while (!signal.aborted) {
      try {
        await fn(signal);
      } catch (err) {
        if (!signal.aborted) this.ctx.logger.warn({ err }, 'datamanager loop failed');
      }
      await sleep(intervalMs, signal);
    }
  }

  private requireNormalMode(what: string): void {
    if (this.options.maintenanceMode) {
      throw newError(`datamanager is in maintenance mode: ${what} is not available`, {
        code: DataManagerErrorCodes.NotStarted,
      });
    }
  }

  private requireStarted(): void {
    if (!this.controller) {
      throw newError('datamanager is not started', { code: DataManagerErrorCodes.NotStarted });
    }
  }
}

/** Resolves when `signal` aborts (at once if it already has). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function notExist(dataType: string, id: string) {
  return newError(`${dataType} ${JSON.stringify(id)} does not exist`, {
    code: DataManagerErrorCodes.NotExist,
  });
}

/**
 * Creates a datamanager (not started).
 *
 * @throws `ERR_DATAMANAGER_INVALID_OPTIONS`
 * @example
 * ```ts
 * const dm = createDataManager({ etcd, ost, basePath: 'configdata', dataTypes: ['user', 'org'] });
 * await dm.start();
 * const { changeGroupsToken } = await dm.write([{ actionType: 'put', dataType: 'user', id: 'u1', data: '{}' }]);
 * const data = await dm.read('user', 'u1');
 * await dm.stop();
 * ```
 */
export function createDataManager(options: DataManagerOptions): DataManager {
  return new DataManager(options);
}

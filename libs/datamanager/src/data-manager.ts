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
import { SyncTracker, type StorageSyncStatus } from './sync-tracker.js';
import { Backoff } from './backoff.js';
import { decodeWalData } from './encoding.js';
import { readWalHeader } from './wals.js';
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
/** The sync lock is kept this long after a pass, waiting for more commits. */
const SYNC_LINGER_MS = 250;

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
  private syncWake: (() => void) | undefined;
  private readonly locks: Locks;
  private readonly tracker: SyncTracker;
  /** The last failure of the current `start()` (the cause of an aborted start). */
  private startError: unknown;
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
    this.tracker = new SyncTracker(this.ctx);
    this.watcher = new WalWatcher(this.ctx, {
      snapshotChanged: () => this.snapshot.invalidate(),
      walsDropped: (upTo) => this.snapshot.require(upTo),
      unsyncedLoaded: (unsynced) => this.tracker.reset(unsynced),
      walChanged: (seq, wal) => {
        if (wal?.walStatus === 'committed')
          this.tracker.committed(seq, wal.inlineData?.length ?? 0);
        else this.tracker.synced(seq);
      },
    });
    this.committer = new Committer(this.ctx, (wals, revision) => this.committed(wals, revision));
  }

  /** The configured data types, in order. */
  get dataTypes(): readonly string[] {
    return this.options.dataTypes;
  }

  /**
   * Starts the instance: initializes etcd if it is new or was reset, checks that etcd's state
   * belongs to this object storage, loads the pending wals, then starts the background loops.
   * While etcd (or the object storage) cannot be reached it retries with a capped exponential
   * backoff (`intervals.retry` doubled up to `intervals.retryMax`), logging each failure with
   * its cause, until it succeeds, `stop()` is called (then it resolves) or `options.signal`
   * aborts.
   *
   * @throws `ERR_DATAMANAGER_START_ABORTED` when `options.signal` aborts first (the cause is
   *   the last failure); `ERR_DATAMANAGER_STORAGE_MISMATCH` when etcd holds the state of
   *   another object storage (the instance is stopped again).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.controller) return;
    this.startError = undefined;
    const external = options.signal;
    if (external?.aborted) throw this.startAborted();
    const controller = new AbortController();
    // every loop, the watcher and in-flight storage calls listen on this one signal
    setMaxListeners(0, controller.signal);
    this.controller = controller;
    // in maintenance mode nothing runs: only export and import are served
    if (this.options.maintenanceMode) return;
    const onAbort = () => controller.abort();
    external?.addEventListener('abort', onAbort, { once: true });
    try {
      const starting = this.startRunning(controller.signal);
      // a call that hangs (an etcd that accepts and never answers) must not delay the abort
      starting.catch(() => undefined);
      await Promise.race([starting, aborted(controller.signal)]);
    } catch (err) {
      await this.stop();
      throw withStack(err);
    } finally {
      external?.removeEventListener('abort', onAbort);
    }
    if (external?.aborted) {
      await this.stop();
      throw this.startAborted();
    }
  }

  private startAborted() {
    const message = 'datamanager start aborted before it was ready';
    const code = DataManagerErrorCodes.StartAborted;
    return this.startError === undefined
      ? newError(message, { code })
      : wrap(this.startError, message, { code });
  }

  private async startRunning(signal: AbortSignal): Promise<void> {
    await this.ensureInitialized(signal, true);
    if (signal.aborted) return;
    this.tasks.push(this.watcher.run(signal));
    await Promise.race([this.watcher.ready, aborted(signal)]);
    if (signal.aborted) return;
    const i = this.options.intervals;
    this.tasks.push(
      // failures are logged by the tracker (warn, then error once they last)
      this.loop('sync', etcdKeys.locks.sync, i.sync, (s) =>
        this.syncPass(s).catch(() => undefined),
      ),
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
   *   `ERR_DATAMANAGER_INVALID_CHANGE_GROUP`; `ERR_DATAMANAGER_UNSYNCED_LIMIT` when more than
   *   `maxUnsyncedWals` wals (or `maxUnsyncedBytes`) wait for the object storage.
   */
  async write(actions: Action[], token?: ChangeGroupsToken): Promise<WriteResult> {
    this.requireStarted();
    this.requireNormalMode('write');
    const normalized = this.validateActions(actions);
    for (const name of Object.keys(token?.changeGroupsRevisions ?? {}))
      validateChangeGroupName(name);
    const walDataFileId = randomUUID();
    const walData = Buffer.from(normalized.map(encodeAction).join(''));
    // durability: only a bounded amount of acknowledged writes may exist in etcd alone
    this.tracker.admit(walData.length <= this.options.inlineWalMaxBytes ? walData.length : 0);
    let inlineData: Buffer | undefined;
    if (walData.length <= this.options.inlineWalMaxBytes) {
      // small wal: its data goes inline in the commit transaction; the sync puts it in a batch
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
    await this.locks.run(etcdKeys.locks.sync, () => this.syncPass(signal), signal);
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

  /**
   * The object storage sync as this instance sees it: how many committed wals (and inline
   * bytes) wait in etcd for the object storage, and since when the sync fails, if it does.
   * For health checks.
   */
  storageSyncStatus(): StorageSyncStatus {
    return this.tracker.status();
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
      this.tracker.committed(w.walSequence, w.request.inlineData?.length ?? 0);
      // read-your-writes for tokens too: the watcher may deliver this commit a bit later
      for (const name of Object.keys(w.request.token?.changeGroupsRevisions ?? {})) {
        changes.updateChangeGroup(name, revision);
      }
    }
    // headers to the object storage right away (best effort; the sync loop catches up)
    this.triggerSync();
  }

  /**
   * Syncs wals to the object storage soon after a commit. Passes run back to back under one
   * hold of the sync lock while commits keep coming (each pass takes everything committed
   * since the previous one: group commit). When the lock is busy (the sync loop or another
   * instance is syncing, maybe from a listing made before this commit) it tries again
   * shortly; after a failure it retries with backoff, so a backlog drains as soon as the
   * object storage is back.
   */
  private triggerSync(): void {
    this.syncAgain = true;
    this.syncWake?.();
    if (this.syncRunning) return;
    const signal = this.controller?.signal;
    if (!signal) return;
    const delay = this.options.syncDelayMs;
    this.syncRunning = (async () => {
      let busy = 0;
      const backoff = new Backoff(this.options.intervals);
      while (this.syncAgain && !signal.aborted) {
        let failed = false;
        // gather the commits of the next few milliseconds into the same pass
        await sleep(delay, signal);
        const ran = await this.locks
          .tryRun(etcdKeys.locks.sync, async () => {
            do {
              this.syncAgain = false;
              await this.syncPass(signal);
              // keep the lock a little while, so a steady trickle of commits does not pay
              // for taking it at every pass
              if (!this.syncAgain) await this.syncWoken(SYNC_LINGER_MS, signal);
              if (this.syncAgain) await sleep(delay, signal);
            } while (this.syncAgain && !signal.aborted);
            return true;
          })
          .catch((err: unknown) => {
            // syncPass failures are logged by the tracker; this is the lock's own failure
            if (!signal.aborted) this.ctx.logger.debug({ err }, 'datamanager: sync failed');
            failed = true;
            return true;
          });
        if (failed) {
          this.syncAgain = true;
          await sleep(backoff.next(), signal);
        } else if (ran === undefined) {
          if (busy++ >= SYNC_BUSY_RETRIES) break;
          this.syncAgain = true;
          await sleep(SYNC_BUSY_DELAY_MS, signal);
        } else {
          backoff.reset();
        }
      }
    })().finally(() => (this.syncRunning = undefined));
  }

  /** Resolves when a commit triggers a sync, or after `ms`. */
  private syncWoken(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.syncWake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.syncWake = done;
    });
  }

  /** One sync pass, its outcome told to the tracker (which logs failures). */
  private async syncPass(signal: AbortSignal): Promise<number> {
    try {
      const synced = await syncWalHeaders(this.ctx, signal);
      for (const seq of synced) this.tracker.synced(seq);
      this.tracker.succeeded();
      return synced.length;
    } catch (err) {
      if (!signal.aborted) this.tracker.failed(err);
      throw err;
    }
  }

  private async checkpointLocked(
    force: boolean,
    signal: AbortSignal,
  ): Promise<SnapshotResult | undefined> {
    const result = await checkpoint(this.ctx, { force, signal });
    if (result) this.snapshot.invalidate();
    return result;
  }

  /**
   * Makes sure etcd holds the datamanager state (initializing it when it is new or was reset).
   * With `untilDone` (start), retries with backoff until it succeeds, logging each failure,
   * and then checks that etcd's state belongs to this object storage.
   */
  private async ensureInitialized(signal: AbortSignal, untilDone: boolean): Promise<void> {
    const backoff = new Backoff(this.options.intervals);
    for (;;) {
      try {
        const walsData = await this.ctx.etcd.get(etcdKeys.walsData);
        if (walsData.kv) {
          if (untilDone) await this.checkStorageMatches(signal);
          return;
        }
        const done = await this.locks.tryRun(etcdKeys.locks.initEtcd, async () => {
          const res = await initEtcd(this.ctx, { signal });
          this.committer.invalidate();
          if (res.initialized) await this.checkpointAfterInit(signal);
          return true;
        });
        if (done) return;
      } catch (err) {
        if (signal.aborted) return;
        // retrying cannot fix a mismatch: the instance is misconfigured
        if (is(err, DataManagerErrorCodes.StorageMismatch)) throw withStack(err);
        if (untilDone) this.startError = err;
        const delay = backoff.next();
        // a gap or a corrupt file needs an operator (the loop still retries, for after the fix)
        const level =
          is(err, DataManagerErrorCodes.WalsGap) || is(err, DataManagerErrorCodes.Corrupt)
            ? 'error'
            : 'warn';
        this.ctx.logger[level](
          { err, attempt: backoff.attempts, retryInMs: untilDone ? delay : undefined },
          untilDone
            ? `datamanager: etcd init failed; retrying in ${delay} ms`
            : 'datamanager: etcd init check failed',
        );
        if (!untilDone) return;
        await sleep(delay, signal);
        continue;
      }
      if (signal.aborted || !untilDone) return;
      // another instance holds the init lock: wait for it
      await sleep(this.options.intervals.retry, signal);
    }
  }

  /**
   * Checks that etcd's datamanager state belongs to this object storage: the last wal etcd
   * says is in the storage must be there, naming the same data file. Otherwise (etcd of
   * another storage or base path) the watcher could never load the wals and would loop.
   *
   * @throws `ERR_DATAMANAGER_STORAGE_MISMATCH`
   */
  private async checkStorageMatches(signal: AbortSignal): Promise<void> {
    const last = (await this.ctx.etcd.get(etcdKeys.lastCommittedStorageWalSeq)).kv?.value;
    if (!last || last.length === 0) return;
    const seq = last.toString();
    const key = ostPaths.walHeader(seq);
    const [etcdWal, header] = await Promise.all([
      this.ctx.etcd.get(etcdKeys.wal(seq)),
      // its own header object, or its sync batch
      readWalHeader(this.ctx, seq, signal).catch((err: unknown) => {
        if (isNotExist(err)) return undefined;
        throw err;
      }),
    ]);
    const where = `${this.options.basePath}/${key}`;
    const mismatch = async (what: string) => {
      const status = await latestDataStatus(this.ctx.ost, signal).catch(() => undefined);
      const storage = status
        ? `the storage's latest snapshot covers wals up to ${status.walSequence || '(none)'}`
        : 'the storage holds no data snapshot';
      return newError(
        `etcd (prefix ${this.ctx.etcd.prefix}) holds the datamanager state of another object storage: ${what}; ${storage}. Point the service at the etcd prefix and object storage (and base path) that belong together, or clear the datamanager keys of this etcd prefix`,
        { code: DataManagerErrorCodes.StorageMismatch },
      );
    };
    if (!header) {
      throw await mismatch(`etcd's last synced wal ${seq} is not in the object storage (${where})`);
    }
    if (!etcdWal.kv) return;
    const inEtcd = decodeWalData(etcdWal.kv.value, etcdKeys.wal(seq)).walDataFileId;
    const inStorage = header.walDataFileId;
    if (inEtcd !== inStorage) {
      throw await mismatch(
        `wal ${seq} names data file ${inEtcd} in etcd but ${inStorage} in the object storage (${where})`,
      );
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

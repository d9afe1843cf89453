import { AgolaError, as, compactText, is, newError } from '@agola-ts/errors';
import { EtcdErrorCodes, Sequence, sleep } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { dataFileEntries, latestDataStatus } from './data-files.js';
import { decodeWalData, decodeWalsData } from './encoding.js';
import { etcdKeys } from './paths.js';
import type { FollowSink, SinkPosition, SinkTransaction } from './sink.js';
import type { Action, DataEntry, WalData } from './types.js';
import {
  listEtcdWals,
  listStorageWals,
  mapLimit,
  readWalActions,
  readWalHeader,
  walActions,
  storageWalExists,
} from './wals.js';

/** The entry a sink failed to apply. */
export interface FollowEntryRef {
  dataType: string;
  id: string;
  /** The wal holding the action, or the wal the applied snapshot ends at ('' for none). */
  walSequence: string;
  /** Where the entry came from: a wal action or a data snapshot entry (full sync). */
  source: 'wal' | 'snapshot';
}

/**
 * What a follower is doing, reported through {@link FollowOptions.onStatus}:
 * - `syncing`: catching up (at start, after a failure, during a full resync);
 * - `following`: caught up, applying the etcd watch;
 * - `retrying`: a transient failure (etcd or the object storage unreachable, a sink
 *   transaction that failed to commit); it retries after `delayMs` (exponential backoff);
 * - `failed`: the sink cannot apply an entry (`entry`); the follower stopped and
 *   {@link DataManager.follow} rejects with `error` (`ERR_DATAMANAGER_SINK_APPLY`).
 */
export type FollowStatus =
  | { state: 'syncing' }
  | { state: 'following'; position: SinkPosition }
  | { state: 'retrying'; attempt: number; delayMs: number; error: Error }
  | { state: 'failed'; error: Error; entry: FollowEntryRef };

/**
 * Acknowledged wals that were lost: the sink had applied them, but neither the object storage
 * nor etcd holds them any more (etcd's data was destroyed before they were synced).
 */
export interface LostWals {
  /** How many wals were lost. */
  count: number;
  /** The first lost wal sequence. */
  from: string;
  /** The last lost wal sequence (the sink's position when the loss was found). */
  to: string;
  /** The wal the new chain continues from (the last one that reached the object storage). */
  continuesFrom: string;
}

/** Options of {@link DataManager.follow}. */
export interface FollowOptions {
  /** Stops following (the call then resolves). */
  signal?: AbortSignal;
  /** Called (and awaited) each time the sink has caught up, before the live watch begins. */
  onCaughtUp?: (position: SinkPosition) => void | Promise<void>;
  /** Called when a full resync starts, with the reason. */
  onResync?: (reason: string) => void;
  /** Called whenever the follower's state changes (see {@link FollowStatus}). */
  onStatus?: (status: FollowStatus) => void;
  /**
   * Called once when the follower finds that wals it had applied were lost (an etcd wipe
   * before they reached the object storage); it is also logged at error level. The sink is
   * then resynced to what survives.
   */
  onWalsLost?: (lost: LostWals) => void;
  /** Wals from the object storage applied per sink transaction. @default 100 */
  walsPerTransaction?: number;
  /**
   * Consecutive failures of the sink on the same entry before the follower gives up on it
   * (reports `failed` and rejects). @default 3
   */
  applyAttempts?: number;
  /**
   * Longest wait between retries after transient failures; the wait starts at the
   * datamanager's `intervals.retry` and doubles. @default 10000
   */
  maxRetryDelayMs?: number;
}

/**
 * A sink failed to apply one entry (code `ERR_DATAMANAGER_SINK_APPLY`); `entry` names it.
 * The sink's own error is the cause.
 */
export class SinkApplyError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/datamanager:SinkApplyError');

  constructor(
    /** The entry that could not be applied. */
    readonly entry: FollowEntryRef,
    cause: unknown,
  ) {
    super(`the sink cannot apply ${describeEntry(entry)}`, {
      code: DataManagerErrorCodes.SinkApply,
      cause,
    });
  }
}

type Actions = Array<Action & { data: Buffer }>;

/**
 * How often at most a follower records a new etcd revision alone (from watch responses with
 * no wal and no change group, such as a sync pass marking wals stored): the revision only
 * says where the watch resumes and how old a change-groups token is, a few revisions behind
 * is fine, while a sqlite transaction for each would queue the next wal behind it.
 */
const MIN_POSITION_INTERVAL_MS = 250;

function resync(reason: string): Error {
  return newError(reason, { code: DataManagerErrorCodes.ResyncNeeded });
}

const epochOf = (walSequence: string) => Sequence.parse(walSequence).epoch;

/**
 * Keeps `sink` in sync with the datamanager until `options.signal` aborts: a full sync from
 * the latest snapshot when the sink is empty or cannot continue (etcd reset, compacted
 * watch, a gap in the wals), then the object storage wals after its position, then the etcd
 * wals, then the etcd watch, each watch response applied in one sink transaction.
 *
 * Failures: a transient one (etcd or the object storage unreachable, a sink transaction that
 * fails to commit) is logged at warn level with its cause and retried with exponential
 * backoff; an entry the sink fails to apply `applyAttempts` times in a row is logged at
 * error level (data type, id, wal sequence), reported as `failed`, and the call rejects with
 * a {@link SinkApplyError} (skipping it would leave the sink silently divergent).
 */
export async function follow(
  ctx: DataManagerContext,
  sink: FollowSink,
  options: FollowOptions = {},
): Promise<void> {
  const { signal } = options;
  const applyAttempts = Math.max(1, options.applyAttempts ?? 3);
  const maxDelay = options.maxRetryDelayMs ?? 10_000;
  const state: FollowState = { attempt: 0, lossReported: new Set(), applyFailure: undefined };
  let forceFull = false;
  options.onStatus?.({ state: 'syncing' });
  while (!signal?.aborted) {
    try {
      await followOnce(ctx, sink, options, forceFull, state);
      forceFull = false;
    } catch (err) {
      if (signal?.aborted) return;
      if (is(err, DataManagerErrorCodes.ResyncNeeded) || is(err, EtcdErrorCodes.Compacted)) {
        forceFull = true;
        const reason = err instanceof Error ? err.message : String(err);
        ctx.logger.info({ reason }, 'follower resyncing fully');
        options.onResync?.(reason);
        options.onStatus?.({ state: 'syncing' });
        continue;
      }
      const error = err instanceof Error ? err : new Error(String(err));
      const failed = as(err, SinkApplyError);
      if (failed) {
        const e = failed.entry;
        const key = `${e.source} ${e.walSequence} ${e.dataType} ${e.id}`;
        const previous = state.applyFailure;
        const applyFailure =
          previous?.key === key ? { key, count: previous.count + 1 } : { key, count: 1 };
        state.applyFailure = applyFailure;
        if (applyFailure.count >= applyAttempts) {
          ctx.logger.error(
            { err, dataType: e.dataType, id: e.id, walSequence: e.walSequence, source: e.source },
            `follower stopped: the sink cannot apply ${describeEntry(e)} (${applyFailure.count} attempts)`,
          );
          options.onStatus?.({ state: 'failed', error, entry: e });
          throw err;
        }
      }
      state.attempt++;
      const delayMs = Math.min(
        ctx.options.intervals.retry * 2 ** Math.min(state.attempt - 1, 20),
        maxDelay,
      );
      ctx.logger.warn(
        { err, attempt: state.attempt, delayMs },
        `follower failed (${compactText(err)}); retrying in ${delayMs} ms`,
      );
      options.onStatus?.({ state: 'retrying', attempt: state.attempt, delayMs, error });
      await sleep(delayMs, signal);
      if (!signal?.aborted) options.onStatus?.({ state: 'syncing' });
    }
  }
}

/** `user "u1" of wal <seq>` / `user "u1" of the data snapshot (up to wal <seq>)`. */
function describeEntry(e: FollowEntryRef): string {
  const where =
    e.source === 'wal'
      ? `wal ${e.walSequence}`
      : `the data snapshot (up to wal ${e.walSequence || 'none'})`;
  return `${e.dataType} ${JSON.stringify(e.id)} of ${where}`;
}

/** What one {@link follow} call keeps across its attempts. */
interface FollowState {
  /** Consecutive failed attempts (0 once caught up). */
  attempt: number;
  /** Sink positions whose lost wals were already reported. */
  lossReported: Set<string>;
  /**
   * Failures of the sink on one entry, counted across transient failures in between; cleared
   * once caught up.
   */
  applyFailure: { key: string; count: number } | undefined;
}

async function followOnce(
  ctx: DataManagerContext,
  sink: FollowSink,
  options: FollowOptions,
  forceFull: boolean,
  state: FollowState,
): Promise<void> {
  const { signal } = options;
  let pos = await sink.position();
  const reason = !forceFull && pos ? await fullSyncReason(ctx, pos, signal) : undefined;
  if (reason) {
    ctx.logger.info({ reason }, 'follower resyncing fully');
    options.onResync?.(reason);
  }
  if (forceFull || !pos || reason) {
    if (pos && pos.walSequence !== '' && !state.lossReported.has(pos.walSequence)) {
      const lost = await findLostWals(ctx, pos.walSequence, signal);
      if (lost) {
        state.lossReported.add(pos.walSequence);
        ctx.logger.error(
          { lost: lost.count, from: lost.from, to: lost.to, continuesFrom: lost.continuesFrom },
          `${lost.count} acknowledged wal(s) lost, from ${lost.from} to ${lost.to}: etcd lost them before they reached the object storage (the chain continues from ${lost.continuesFrom || 'the start'})`,
        );
        options.onWalsLost?.(lost);
      }
    }
    pos = await fullSync(ctx, sink, signal);
  }
  pos = await syncFromStorage(ctx, sink, pos, options);
  const revision = await syncFromEtcd(ctx, sink, pos, signal);
  let walSequence = (await sink.position())?.walSequence ?? pos.walSequence;
  state.attempt = 0;
  state.applyFailure = undefined;
  options.onStatus?.({ state: 'following', position: { walSequence, revision } });
  await options.onCaughtUp?.({ walSequence, revision });

  let positionAt = performance.now();
  // coalesced: when the sink falls behind, the waiting responses go into one transaction
  for await (const res of ctx.etcd.watch('', {
    startRevision: revision + 1n,
    signal,
    coalesce: true,
  })) {
    // fetch what the events need before opening the sink transaction
    const wals: Array<{ wal: WalData; actions: Actions }> = [];
    const groups: Array<[string, bigint | undefined]> = [];
    let expected = walSequence;
    for (const event of res.events) {
      const key = event.kv.key;
      if (key === etcdKeys.walsData && event.type === 'delete') {
        throw resync('the datamanager etcd state was reset');
      } else if (key.startsWith(etcdKeys.walsDir) && event.type === 'put') {
        const seq = key.slice(etcdKeys.walsDir.length);
        if (expected !== '' && seq <= expected) continue; // a status change of an applied wal
        const wal = decodeWalData(event.kv.value, key);
        if (expected !== '' && epochOf(seq) !== epochOf(expected)) {
          throw resync(`wal ${seq} starts a new epoch (etcd was reset)`);
        }
        if (wal.previousWalSequence !== expected) {
          throw resync(
            `wals gap: wal ${seq} follows ${JSON.stringify(wal.previousWalSequence)}, the sink is at ${JSON.stringify(expected)}`,
          );
        }
        wals.push({ wal, actions: [] });
        expected = seq;
      } else if (key.startsWith(etcdKeys.changeGroupsDir)) {
        const name = key.slice(etcdKeys.changeGroupsDir.length);
        groups.push([name, event.type === 'put' ? event.kv.modRevision : undefined]);
      }
    }
    // a response with nothing to apply (a sync pass marking wals as stored, a ping) only moves
    // the revision: recorded at most every MIN_POSITION_INTERVAL_MS, not a sink transaction
    // each (a wal arriving meanwhile would wait behind it)
    if (
      wals.length === 0 &&
      groups.length === 0 &&
      performance.now() - positionAt < MIN_POSITION_INTERVAL_MS
    ) {
      continue;
    }
    await mapLimit(wals, 8, async (w) => {
      w.actions = await walActions(ctx, w.wal, signal);
    });
    await sink.transaction(async (tx) => {
      for (const { wal, actions } of wals) {
        for (const action of actions) await applyAction(tx, action, wal.walSequence);
      }
      for (const [name, rev] of groups) await tx.setChangeGroup(name, rev);
      await tx.setPosition({ walSequence: expected, revision: res.revision });
    });
    walSequence = expected;
    positionAt = performance.now();
  }
}

/** Applies a wal action; a failure of the sink becomes a {@link SinkApplyError} naming it. */
async function applyAction(
  tx: SinkTransaction,
  action: Action & { data: Buffer },
  walSequence: string,
): Promise<void> {
  try {
    await tx.applyAction(action, walSequence);
  } catch (err) {
    const entry = { dataType: action.dataType, id: action.id, walSequence, source: 'wal' as const };
    throw new SinkApplyError(entry, err);
  }
}

/** Applies snapshot entries, all at once when the sink can (see `applyEntries`). */
async function applyEntries(
  tx: SinkTransaction,
  entries: DataEntry[],
  walSequence: string,
): Promise<void> {
  const first = entries[0];
  if (!first) return;
  if (!tx.applyEntries) {
    for (const entry of entries) await applyEntry(tx, entry, walSequence);
    return;
  }
  try {
    await tx.applyEntries(entries);
  } catch (err) {
    const ref = {
      dataType: first.dataType,
      id: first.id,
      walSequence,
      source: 'snapshot' as const,
    };
    throw new SinkApplyError(ref, err);
  }
}

/** Applies a snapshot entry; a failure of the sink becomes a {@link SinkApplyError}. */
async function applyEntry(
  tx: SinkTransaction,
  entry: DataEntry,
  walSequence: string,
): Promise<void> {
  try {
    await tx.applyEntry(entry);
  } catch (err) {
    const ref = {
      dataType: entry.dataType,
      id: entry.id,
      walSequence,
      source: 'snapshot' as const,
    };
    throw new SinkApplyError(ref, err);
  }
}

/**
 * The wals the sink applied that no longer exist anywhere, or undefined. After an etcd
 * wipe, the instance that re-initializes etcd starts a new epoch with an empty wal that
 * follows the last wal of the object storage; when the sink's position is past that wal,
 * the wals in between were acknowledged but only lived in the lost etcd. (An import starts
 * a new chain, whose first wal follows none: that is no loss.)
 */
async function findLostWals(
  ctx: DataManagerContext,
  sinkWal: string,
  signal?: AbortSignal,
): Promise<LostWals | undefined> {
  const sinkSeq = Sequence.parse(sinkWal);
  const newer = (await listStorageWals(ctx, { startAfter: sinkWal, signal })).find(
    (seq) => epochOf(seq) > sinkSeq.epoch,
  );
  if (!newer) return undefined;
  const prev = (await readWalHeader(ctx, newer, signal)).previousWalSequence;
  if (prev === '' || prev >= sinkWal) return undefined;
  const prevSeq = Sequence.parse(prev);
  const first =
    prevSeq.epoch === sinkSeq.epoch
      ? new Sequence(sinkSeq.epoch, prevSeq.counter + 1n)
      : new Sequence(sinkSeq.epoch, 1n);
  return {
    count: Number(sinkSeq.counter - first.counter + 1n),
    from: first.toString(),
    to: sinkWal,
    continuesFrom: prev,
  };
}

/** Why the sink's position cannot be continued incrementally, or undefined when it can. */
async function fullSyncReason(
  ctx: DataManagerContext,
  pos: SinkPosition,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (pos.walSequence === '') return 'the sink has no wal position';
  const last = (await ctx.etcd.get(etcdKeys.lastCommittedStorageWalSeq)).kv?.value.toString();
  if (!last)
    throw newError('datamanager etcd state is not initialized yet', {
      code: DataManagerErrorCodes.NotInitialized,
    });
  if (epochOf(last) !== epochOf(pos.walSequence)) {
    return `etcd was reset: wal ${last} is of another epoch than the sink's ${pos.walSequence}`;
  }
  // the wal the sink stopped at must still be known (not cleaned away)
  if (await storageWalExists(ctx, pos.walSequence, signal)) return undefined;
  if ((await ctx.etcd.get(etcdKeys.wal(pos.walSequence))).kv) return undefined;
  return `wal ${pos.walSequence} of the sink was cleaned away`;
}

/**
 * Entries a full sync decodes and hands to the sink between two turns of the event loop: a
 * sink working on another thread (sqlite's statements run on the thread pool, each started
 * by the main thread when the previous one ends) is not left idle while the main thread
 * decodes, and the rest of the process (HTTP requests, watches) keeps being served.
 */
const YIELD_EVERY = 128;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Replaces the sink's content with the latest snapshot, in one transaction. */
async function fullSync(
  ctx: DataManagerContext,
  sink: FollowSink,
  signal?: AbortSignal,
): Promise<SinkPosition> {
  const status = await latestDataStatus(ctx.ost, signal);
  const position: SinkPosition = { walSequence: status?.walSequence ?? '', revision: 0n };
  const files = Object.entries(status?.files ?? {}).flatMap(([dataType, refs]) =>
    refs.map((f) => ({ dataType, id: f.id })),
  );
  // the next file is read while the entries of this one are decoded and applied, each entry
  // decoded when it is reached: decoding overlaps sqlite's work on the previous batch, and
  // at most two files' bytes are in memory
  const read = (i: number) => {
    const f = files[i];
    if (!f) return undefined;
    const p = dataFileEntries(ctx.ost, f.dataType, f.id, signal);
    p.catch(() => undefined); // awaited in turn below
    return p;
  };
  const run: DataEntry[] = [];
  await sink.transaction(async (tx) => {
    await tx.reset();
    let next = read(0);
    for (let i = 0; next; i++) {
      const entries = await next;
      next = read(i + 1);
      for (const entry of entries) {
        run.push(entry);
        if (run.length === YIELD_EVERY) {
          await applyEntries(tx, run.splice(0), position.walSequence);
          await yieldToEventLoop();
        }
      }
    }
    await applyEntries(tx, run.splice(0), position.walSequence);
    await tx.setPosition(position);
  });
  return position;
}

/** Applies the wals of the object storage after the position, in order, checking the chain. */
async function syncFromStorage(
  ctx: DataManagerContext,
  sink: FollowSink,
  start: SinkPosition,
  options: FollowOptions,
): Promise<SinkPosition> {
  const { signal } = options;
  const perTx = options.walsPerTransaction ?? 100;
  const seqs = await listStorageWals(ctx, { startAfter: start.walSequence, signal });
  let pos = start;
  for (let i = 0; i < seqs.length; i += perTx) {
    const batch = await mapLimit(seqs.slice(i, i + perTx), 8, async (seq) => {
      const header = await readWalHeader(ctx, seq, signal);
      return { seq, header, actions: await readWalActions(ctx, header.walDataFileId, signal) };
    });
    let expected = pos.walSequence;
    for (const w of batch) {
      if (expected !== '' && w.header.previousWalSequence !== expected) {
        throw resync(
          `wals gap: wal ${w.seq} follows ${JSON.stringify(w.header.previousWalSequence)}, expected ${expected}`,
        );
      }
      expected = w.seq;
    }
    const next: SinkPosition = { walSequence: expected, revision: pos.revision };
    await sink.transaction(async (tx) => {
      for (const w of batch) for (const a of w.actions) await applyAction(tx, a, w.seq);
      await tx.setPosition(next);
    });
    pos = next;
  }
  return pos;
}

/**
 * Applies the etcd wals after the position and every change group revision, as of one etcd
 * revision, in one transaction. Returns that revision (the watch starts after it).
 */
async function syncFromEtcd(
  ctx: DataManagerContext,
  sink: FollowSink,
  pos: SinkPosition,
  signal?: AbortSignal,
): Promise<bigint> {
  const { wals, revision } = await listEtcdWals(ctx);
  const [groups, walsData] = await Promise.all([
    ctx.etcd.list(etcdKeys.changeGroupsDir, { revision }),
    ctx.etcd.get(etcdKeys.walsData, { revision }),
  ]);
  if (!walsData.kv) {
    throw newError('datamanager etcd state is not initialized yet', {
      code: DataManagerErrorCodes.NotInitialized,
    });
  }
  const lastCommitted = decodeWalsData(walsData.kv.value, etcdKeys.walsData);
  const toApply = wals.filter((w) => pos.walSequence === '' || w.wal.walSequence > pos.walSequence);
  let expected = pos.walSequence;
  for (const w of toApply) {
    if (expected !== '' && w.wal.previousWalSequence !== expected) {
      throw resync(
        `wals gap: wal ${w.wal.walSequence} follows ${JSON.stringify(w.wal.previousWalSequence)}, expected ${expected}`,
      );
    }
    expected = w.wal.walSequence;
  }
  if (expected !== lastCommitted) {
    throw resync(
      `the sink reached wal ${JSON.stringify(expected)} but the last committed wal is ${lastCommitted}`,
    );
  }
  const actions = await mapLimit(toApply, 8, (w) => walActions(ctx, w.wal, signal));
  const changeGroups = new Map(
    groups.kvs.map(
      (kv) => [kv.key.slice(etcdKeys.changeGroupsDir.length), kv.modRevision] as const,
    ),
  );
  await sink.transaction(async (tx) => {
    for (let i = 0; i < toApply.length; i++) {
      for (const a of actions[i]!) await applyAction(tx, a, toApply[i]!.wal.walSequence);
    }
    await tx.replaceChangeGroups(changeGroups);
    await tx.setPosition({ walSequence: expected, revision });
  });
  return revision;
}

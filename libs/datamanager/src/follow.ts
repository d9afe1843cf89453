import { is, newError } from '@agola-ts/errors';
import { EtcdErrorCodes, Sequence, sleep } from '@agola-ts/etcd';
import { isNotExist } from '@agola-ts/ost';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { latestDataStatus, readRawDataFile } from './data-files.js';
import { decodeDataEntry, decodeWalData, decodeWalsData } from './encoding.js';
import { etcdKeys, ostPaths } from './paths.js';
import type { FollowSink, SinkPosition } from './sink.js';
import type { Action, WalData } from './types.js';
import {
  listEtcdWals,
  listStorageWals,
  mapLimit,
  readWalActions,
  readWalHeader,
  walActions,
} from './wals.js';

/** Options of {@link DataManager.follow}. */
export interface FollowOptions {
  /** Stops following (the call then resolves). */
  signal?: AbortSignal;
  /** Called (and awaited) each time the sink has caught up, before the live watch begins. */
  onCaughtUp?: (position: SinkPosition) => void | Promise<void>;
  /** Called when a full resync starts, with the reason. */
  onResync?: (reason: string) => void;
  /** Wals from the object storage applied per sink transaction. @default 100 */
  walsPerTransaction?: number;
}

type Actions = Array<Action & { data: Buffer }>;

function resync(reason: string): Error {
  return newError(reason, { code: DataManagerErrorCodes.ResyncNeeded });
}

const epochOf = (walSequence: string) => Sequence.parse(walSequence).epoch;

/**
 * Keeps `sink` in sync with the datamanager until `options.signal` aborts: a full sync from
 * the latest snapshot when the sink is empty or cannot continue (etcd reset, compacted
 * watch, a gap in the wals), then the object storage wals after its position, then the etcd
 * wals, then the etcd watch, each watch response applied in one sink transaction.
 */
export async function follow(
  ctx: DataManagerContext,
  sink: FollowSink,
  options: FollowOptions = {},
): Promise<void> {
  const { signal } = options;
  let forceFull = false;
  while (!signal?.aborted) {
    try {
      await followOnce(ctx, sink, options, forceFull);
      forceFull = false;
    } catch (err) {
      if (signal?.aborted) return;
      if (is(err, DataManagerErrorCodes.ResyncNeeded) || is(err, EtcdErrorCodes.Compacted)) {
        forceFull = true;
        const reason = err instanceof Error ? err.message : String(err);
        ctx.logger.info({ reason }, 'follower resyncing fully');
        options.onResync?.(reason);
        continue;
      }
      ctx.logger.warn({ err }, 'follower failed; retrying');
      await sleep(ctx.options.intervals.retry, signal);
    }
  }
}

async function followOnce(
  ctx: DataManagerContext,
  sink: FollowSink,
  options: FollowOptions,
  forceFull: boolean,
): Promise<void> {
  const { signal } = options;
  let pos = await sink.position();
  const reason = !forceFull && pos ? await fullSyncReason(ctx, pos, signal) : undefined;
  if (reason) {
    ctx.logger.info({ reason }, 'follower resyncing fully');
    options.onResync?.(reason);
  }
  if (forceFull || !pos || reason) pos = await fullSync(ctx, sink, signal);
  pos = await syncFromStorage(ctx, sink, pos, options);
  const revision = await syncFromEtcd(ctx, sink, pos, signal);
  let walSequence = (await sink.position())?.walSequence ?? pos.walSequence;
  await options.onCaughtUp?.({ walSequence, revision });

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
    await mapLimit(wals, 8, async (w) => {
      w.actions = await walActions(ctx, w.wal, signal);
    });
    await sink.transaction(async (tx) => {
      for (const { wal, actions } of wals) {
        for (const action of actions) await tx.applyAction(action, wal.walSequence);
      }
      for (const [name, rev] of groups) await tx.setChangeGroup(name, rev);
      await tx.setPosition({ walSequence: expected, revision: res.revision });
    });
    walSequence = expected;
  }
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
  try {
    await ctx.ost.stat(ostPaths.walHeader(pos.walSequence), { signal });
    return undefined;
  } catch (err) {
    if (!isNotExist(err)) throw err;
  }
  if ((await ctx.etcd.get(etcdKeys.wal(pos.walSequence))).kv) return undefined;
  return `wal ${pos.walSequence} of the sink was cleaned away`;
}

/** Replaces the sink's content with the latest snapshot, in one transaction. */
async function fullSync(
  ctx: DataManagerContext,
  sink: FollowSink,
  signal?: AbortSignal,
): Promise<SinkPosition> {
  const status = await latestDataStatus(ctx.ost, signal);
  const position: SinkPosition = { walSequence: status?.walSequence ?? '', revision: 0n };
  await sink.transaction(async (tx) => {
    await tx.reset();
    for (const [dataType, files] of Object.entries(status?.files ?? {})) {
      for (const file of files) {
        const what = ostPaths.dataFile(dataType, file.id);
        for (const raw of await readRawDataFile(ctx.ost, dataType, file.id, signal)) {
          await tx.applyEntry(decodeDataEntry(raw.bytes, what));
        }
      }
    }
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
      for (const w of batch) for (const a of w.actions) await tx.applyAction(a, w.seq);
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
      for (const a of actions[i]!) await tx.applyAction(a, toApply[i]!.wal.walSequence);
    }
    await tx.replaceChangeGroups(changeGroups);
    await tx.setPosition({ walSequence: expected, revision });
  });
  return revision;
}

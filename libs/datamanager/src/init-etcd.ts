import { randomUUID } from 'node:crypto';
import { newError } from '@agola-ts/errors';
import { incSequence, type Op } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { latestDataStatus } from './data-files.js';
import { encodeWalData, encodeWalHeader, encodeWalsData } from './encoding.js';
import { etcdKeys, LOCK_PREFIXES, ostPaths } from './paths.js';
import type { DataStatus } from './types.js';
import { listStorageWals, readWalHeader, TXN_CHUNK } from './wals.js';

/** What {@link initEtcd} did. */
export interface InitEtcdResult {
  /** False when etcd was already initialized (nothing done). */
  initialized: boolean;
  /** Wals re-registered from the object storage. */
  walsRegistered: number;
  /** The new empty wal that starts the new epoch. */
  firstWal?: string;
}

/**
 * Makes sure etcd holds the datamanager's state. On a new or reset etcd (no `walsdata`):
 * clears the datamanager keys (locks excepted), re-registers every wal of the object
 * storage from the latest snapshot on (checking that the chain has no gap), and commits a
 * new empty wal, which starts a new sequence epoch so readers notice the reset. The caller
 * forces a checkpoint afterwards. With `dataStatus` (an import), starts from that snapshot.
 *
 * @throws `ERR_DATAMANAGER_WALS_GAP` when a wal header does not follow the previous one.
 */
export async function initEtcd(
  ctx: DataManagerContext,
  options: { dataStatus?: DataStatus; signal?: AbortSignal } = {},
): Promise<InitEtcdResult> {
  const { signal } = options;
  const walsData = await ctx.etcd.get(etcdKeys.walsData);
  if (walsData.kv && !options.dataStatus) {
    await ensureMinRev(ctx);
    return { initialized: false, walsRegistered: 0 };
  }

  // Start clean: everything but the locks goes.
  const { kvs } = await ctx.etcd.list('', { keysOnly: true });
  for (const kv of kvs) {
    if (LOCK_PREFIXES.some((p) => kv.key === p || kv.key.startsWith(`${p}/`))) continue;
    await ctx.etcd.delete(kv.key);
  }
  await ensureMinRev(ctx);

  const status = options.dataStatus ?? (await latestDataStatus(ctx.ost, signal));
  const firstWal = status?.walSequence ?? '';
  const storageWals = (await listStorageWals(ctx, { signal, all: true })).filter(
    (s) => s >= firstWal,
  );
  if (storageWals.length > 0 && !status && firstWal === '') {
    // no snapshot: the chain must start at its very first wal
    const first = await readWalHeader(ctx, storageWals[0]!, signal);
    if (first.previousWalSequence !== '') {
      throw newError(
        `wal ${storageWals[0]} follows ${first.previousWalSequence}, which is missing and no data snapshot covers it`,
        { code: DataManagerErrorCodes.WalsGap },
      );
    }
  }
  // Re-register the wals, checking the chain.
  let previous = '';
  const puts: Op[] = [];
  for (const seq of storageWals) {
    const header = await readWalHeader(ctx, seq, signal);
    const expected =
      previous !== '' ? previous : firstWal !== '' && seq !== firstWal ? firstWal : undefined;
    if (expected !== undefined && header.previousWalSequence !== expected) {
      throw newError(
        previous !== ''
          ? `wals gap: wal ${seq} follows ${JSON.stringify(header.previousWalSequence)}, expected ${previous}`
          : `wals gap: the first wal after snapshot wal ${firstWal} is ${seq}, which follows ${JSON.stringify(header.previousWalSequence)}`,
        { code: DataManagerErrorCodes.WalsGap },
      );
    }
    puts.push({
      type: 'put',
      key: etcdKeys.wal(seq),
      value: encodeWalData({
        walDataFileId: header.walDataFileId,
        walStatus: 'committed_storage',
        walSequence: seq,
        previousWalSequence: header.previousWalSequence,
      }),
    });
    previous = seq;
  }
  for (let i = 0; i < puts.length; i += TXN_CHUNK) {
    await ctx.etcd.txn({ success: puts.slice(i, i + TXN_CHUNK) });
  }

  // A new empty wal: walseq was deleted, so its sequence starts a new epoch.
  const walSeq = (await incSequence(ctx.etcd, etcdKeys.walSeq)).toString();
  const walDataFileId = randomUUID();
  const previousWalSequence = previous || firstWal;
  await ctx.ost.write(ostPaths.walData(walDataFileId), '', { persist: true, signal });
  await ctx.ost.write(
    ostPaths.walHeader(walSeq),
    encodeWalHeader({ walDataFileId, previousWalSequence }),
    { persist: true, signal },
  );
  const res = await ctx.etcd.txn({
    compare: [{ key: etcdKeys.walsData, target: 'create', operator: '==', value: 0n }],
    success: [
      { type: 'put', key: etcdKeys.walsData, value: encodeWalsData(walSeq) },
      { type: 'put', key: etcdKeys.lastCommittedStorageWalSeq, value: walSeq },
      {
        type: 'put',
        key: etcdKeys.wal(walSeq),
        value: encodeWalData({
          walDataFileId,
          walStatus: 'committed_storage',
          walSequence: walSeq,
          previousWalSequence,
        }),
      },
    ],
  });
  if (!res.succeeded) {
    throw newError('etcd was initialized concurrently by another instance', {
      code: DataManagerErrorCodes.NotInitialized,
    });
  }
  ctx.logger.info(
    { walsRegistered: puts.length, firstWal: walSeq },
    'datamanager etcd state initialized',
  );
  return { initialized: true, walsRegistered: puts.length, firstWal: walSeq };
}

async function ensureMinRev(ctx: DataManagerContext): Promise<void> {
  await ctx.etcd.txn({
    compare: [{ key: etcdKeys.changeGroupsMinRev, target: 'create', operator: '==', value: 0n }],
    success: [{ type: 'put', key: etcdKeys.changeGroupsMinRev, value: '' }],
  });
}

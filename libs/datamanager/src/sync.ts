import type { Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { decodeWalData, encodeWalData, encodeWalHeader } from './encoding.js';
import { etcdKeys, ostPaths } from './paths.js';
import { encodeBatch } from './wal-batches.js';
import { mapLimit, updateWalsGuarded, type EtcdWal } from './wals.js';

/** Most wals one sync pass takes (the next pass takes the rest). */
export const MAX_WALS_PER_SYNC_PASS = 4096;

/**
 * One sync pass with group commit to the object storage: takes the wals that are only
 * `committed` in etcd (every one after `lastcommittedstoragewalseq`, up to
 * {@link MAX_WALS_PER_SYNC_PASS}) and writes them in ONE durable object, the sync batch
 * `wals/batches/<lastSeq>.batch` (one fsync pass for the whole batch). Then Agola's per-wal
 * objects (`wals/data/<id>` for inline wals, `wals/status/<seq>.committed`) in parallel
 * (`syncConcurrency` in flight) without an fsync each, and finally, in etcd, the wals become
 * `committed_storage` and `lastcommittedstoragewalseq` advances, in guarded transactions in
 * sequence order.
 *
 * A crash at any point leaves a readable, gap-free chain: a batch is written atomically (all
 * of the pass or nothing), every per-wal object exists only after its batch is durable, and
 * whatever per-wal object a crash lost is rewritten from its batch at the next start or
 * recovery ({@link repairFromBatches}). A pass that fails is redone from etcd by the next one
 * (same content). Readers list headers only up to `lastcommittedstoragewalseq`
 * ({@link listStorageWals}), so they never see the holes of a pass in progress.
 *
 * Returns the sequences of the wals synced, in order.
 */
export async function syncWalHeaders(
  ctx: DataManagerContext,
  signal?: AbortSignal,
): Promise<string[]> {
  const t0 = performance.now();
  // only the wals after the last synced one: a backlog of synced wals in etcd costs nothing here
  const last = (await ctx.etcd.get(etcdKeys.lastCommittedStorageWalSeq)).kv?.value.toString();
  const toSync: EtcdWal[] = [];
  const pages = ctx.etcd.listPaged(etcdKeys.walsDir, {
    pageSize: 100,
    startAfter: last ? etcdKeys.wal(last) : undefined,
  });
  for await (const page of pages) {
    for (const kv of page) {
      const wal = decodeWalData(kv.value, kv.key);
      if (wal.walStatus === 'committed') toSync.push({ kv, wal });
    }
    if (toSync.length >= MAX_WALS_PER_SYNC_PASS) break;
  }
  if (toSync.length === 0) return [];
  const t1 = performance.now();
  // Group commit: the whole pass in ONE durable object...
  const lastOfPass = toSync[toSync.length - 1]!.wal.walSequence;
  await ctx.ost.write(
    ostPaths.walBatch(lastOfPass),
    encodeBatch(toSync.map(({ wal }) => ({ ...wal, data: wal.inlineData }))),
    { persist: true, signal },
  );
  // ...then Agola's per-wal objects, in parallel and without an fsync each (the batch makes
  // them durable: a recovery rewrites any a crash lost). Per wal, the data file first: a
  // header never names a missing file.
  await mapLimit(toSync, ctx.options.syncConcurrency, async ({ wal }) => {
    if (wal.inlineData) {
      await ctx.ost.write(ostPaths.walData(wal.walDataFileId), wal.inlineData, { signal });
    }
    await ctx.ost.write(
      ostPaths.walHeader(wal.walSequence),
      encodeWalHeader({
        walDataFileId: wal.walDataFileId,
        previousWalSequence: wal.previousWalSequence,
      }),
      { signal },
    );
  });
  const t2 = performance.now();
  // marked in order, so lastcommittedstoragewalseq always names a wal whose predecessors are synced
  const done = await updateWalsGuarded(ctx, toSync, (chunk) => [
    ...chunk.map(({ wal }): Op => ({
      type: 'put',
      key: etcdKeys.wal(wal.walSequence),
      // the inline copy goes: the data file is in the object storage now
      value: encodeWalData({ ...wal, walStatus: 'committed_storage', inlineData: undefined }),
    })),
    {
      type: 'put',
      key: etcdKeys.lastCommittedStorageWalSeq,
      value: chunk[chunk.length - 1]!.wal.walSequence,
    },
  ]);
  ctx.logger.debug(
    {
      wals: toSync.length,
      marked: done,
      listMs: Math.round(t1 - t0),
      storageMs: Math.round(t2 - t1),
      etcdMs: Math.round(performance.now() - t2),
    },
    'datamanager: sync pass',
  );
  return toSync.slice(0, done).map((w) => w.wal.walSequence);
}

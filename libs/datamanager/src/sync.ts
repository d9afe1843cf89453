import type { Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { decodeWalData, encodeWalData, encodeWalHeader } from './encoding.js';
import { etcdKeys, ostPaths } from './paths.js';
import { mapLimit, updateWalsGuarded, type EtcdWal } from './wals.js';

/** Most wals one sync pass takes (the next pass takes the rest). */
export const MAX_WALS_PER_SYNC_PASS = 4096;

/**
 * One sync pass with group commit to the object storage: takes the wals that are only
 * `committed` in etcd (every one after `lastcommittedstoragewalseq`, up to
 * {@link MAX_WALS_PER_SYNC_PASS}), writes their data files (inline wals) and their headers in
 * parallel (`syncConcurrency` writes in flight, each durable; the file system merges the
 * concurrent fsyncs), then advances two ordered markers: the object storage's
 * `wals/lastsynced` (the last wal of the pass, written once every header of the pass is
 * durable) and, in etcd, `committed_storage` + `lastcommittedstoragewalseq` in guarded
 * transactions in sequence order.
 *
 * A crash at any point leaves a gap-free prefix: every wal up to `wals/lastsynced` has its
 * header; headers after it may have holes (a pass that did not finish). The next pass rewrites
 * them (same content), and a recovery from the object storage alone ({@link initEtcd}) keeps
 * the chain up to the first hole after the marker and drops the rest. Readers list headers
 * only up to `lastcommittedstoragewalseq` ({@link listStorageWals}), so they never see a hole.
 *
 * Returns the sequences of the wals synced, in order.
 */
export async function syncWalHeaders(
  ctx: DataManagerContext,
  signal?: AbortSignal,
): Promise<string[]> {
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
  // Each wal: its data file first (a header must never name a missing file), then its header.
  // Wals go in parallel: order only matters for the markers below.
  await mapLimit(toSync, ctx.options.syncConcurrency, async ({ wal }) => {
    if (wal.inlineData) {
      await ctx.ost.write(ostPaths.walData(wal.walDataFileId), wal.inlineData, {
        persist: true,
        signal,
      });
    }
    await ctx.ost.write(
      ostPaths.walHeader(wal.walSequence),
      encodeWalHeader({
        walDataFileId: wal.walDataFileId,
        previousWalSequence: wal.previousWalSequence,
      }),
      { persist: true, signal },
    );
  });
  const lastOfPass = toSync[toSync.length - 1]!.wal.walSequence;
  await ctx.ost.write(ostPaths.lastSynced, lastOfPass, { persist: true, signal });
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
  return toSync.slice(0, done).map((w) => w.wal.walSequence);
}

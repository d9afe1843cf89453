import type { Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { encodeWalData, encodeWalHeader } from './encoding.js';
import { etcdKeys, ostPaths } from './paths.js';
import { listEtcdWals, mapLimit, updateWalsGuarded } from './wals.js';

/**
 * Writes the headers of the wals that are only `committed` in etcd to the object storage, in
 * sequence order and one after the other (a reader listing headers must never see a later wal
 * without the earlier ones), then marks them `committed_storage` in one guarded transaction.
 * Returns how many wals were synced.
 */
export async function syncWalHeaders(
  ctx: DataManagerContext,
  signal?: AbortSignal,
): Promise<number> {
  // only the wals after the last synced one: a backlog of wals in etcd costs nothing here
  const last = (await ctx.etcd.get(etcdKeys.lastCommittedStorageWalSeq)).kv?.value.toString();
  const { wals } = await listEtcdWals(ctx, { startAfter: last ? etcdKeys.wal(last) : undefined });
  const toSync = wals.filter((w) => w.wal.walStatus === 'committed');
  if (toSync.length === 0) return 0;
  // The inline wals' data files first, in parallel (a header must never name a missing file)...
  await mapLimit(
    toSync.filter((w) => w.wal.inlineData),
    8,
    ({ wal }) =>
      ctx.ost.write(ostPaths.walData(wal.walDataFileId), wal.inlineData!, {
        persist: true,
        signal,
      }),
  );
  // ...then the headers one after the other: whatever happens, the storage holds a prefix of
  // the chain (recovery after a crash finds no hole).
  for (const { wal } of toSync) {
    await ctx.ost.write(
      ostPaths.walHeader(wal.walSequence),
      encodeWalHeader({
        walDataFileId: wal.walDataFileId,
        previousWalSequence: wal.previousWalSequence,
      }),
      { persist: true, signal },
    );
  }
  // marked in order, so lastcommittedstoragewalseq always names a wal whose predecessors are synced
  return updateWalsGuarded(ctx, toSync, (chunk) => [
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
}

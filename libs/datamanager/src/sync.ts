import type { Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { decodeWalData, encodeWalData } from './encoding.js';
import { etcdKeys, ostPaths } from './paths.js';
import { encodeBatch } from './wal-batches.js';
import { updateWalsGuarded, type EtcdWal } from './wals.js';

/** Most wals one sync pass takes (the next pass takes the rest). */
export const MAX_WALS_PER_SYNC_PASS = 4096;
/** Most inline bytes one sync pass takes (a batch object stays a reasonable size). */
export const MAX_BYTES_PER_SYNC_PASS = 16 * 1024 * 1024;

/**
 * One sync pass with group commit to the object storage: takes the wals that are only
 * `committed` in etcd (every one after `lastcommittedstoragewalseq`, up to
 * {@link MAX_WALS_PER_SYNC_PASS}) and writes them in ONE durable object, the sync batch
 * `wals/batches/<lastSeq>.batch`: each wal's header and, for a wal that was inline in etcd,
 * its data (a larger wal's data file was written before its commit). Then, in etcd, the wals
 * become `committed_storage` (their inline copy dropped) and `lastcommittedstoragewalseq`
 * advances, in guarded transactions in sequence order.
 *
 * One object and one fsync pass per batch, however many wals: the sync keeps pace with the
 * group commit of etcd. A batch is written atomically, so a crash leaves the storage with a
 * gap-free chain (a pass that did not finish is redone from etcd, same content). Readers
 * ({@link listStorageWals}, {@link readWalHeader}, {@link walActions}) read batched wals and
 * Agola's per-wal objects alike; Agola v0.7 itself reads the snapshots, not the batches (see
 * the README: force a checkpoint before handing a storage to Agola).
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
  let bytes = 0;
  const pages = ctx.etcd.listPaged(etcdKeys.walsDir, {
    pageSize: 100,
    startAfter: last ? etcdKeys.wal(last) : undefined,
  });
  for await (const page of pages) {
    for (const kv of page) {
      const wal = decodeWalData(kv.value, kv.key);
      if (wal.walStatus !== 'committed') continue;
      toSync.push({ kv, wal });
      bytes += wal.inlineData?.length ?? 0;
    }
    if (toSync.length >= MAX_WALS_PER_SYNC_PASS || bytes >= MAX_BYTES_PER_SYNC_PASS) break;
  }
  if (toSync.length === 0) return [];
  const t1 = performance.now();
  // Group commit: the whole pass in ONE durable object
  const lastOfPass = toSync[toSync.length - 1]!.wal.walSequence;
  await ctx.ost.write(
    ostPaths.walBatch(lastOfPass),
    encodeBatch(toSync.map(({ wal }) => ({ ...wal, data: wal.inlineData }))),
    { persist: true, signal },
  );
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

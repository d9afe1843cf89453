import { incSequence, type Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { latestDataStatus } from './data-files.js';
import { encodeWalData } from './encoding.js';
import { etcdKeys } from './paths.js';
import { writeDataSnapshot, type SnapshotResult } from './snapshot.js';
import { listEtcdWals, mapLimit, updateWalsGuarded, walActions } from './wals.js';

/**
 * One checkpoint: the etcd wals whose headers are in the object storage (up to the first
 * that is only `committed`), not yet checkpointed, go into a new data snapshot; then they are
 * marked `checkpointed`. Without `force`, waits for `minCheckpointWalsNum` wals. Returns
 * undefined when there was nothing to do.
 */
export async function checkpoint(
  ctx: DataManagerContext,
  options: { force?: boolean; signal?: AbortSignal } = {},
): Promise<SnapshotResult | undefined> {
  const { signal } = options;
  const { wals } = await listEtcdWals(ctx);
  const ready = [];
  for (const w of wals) {
    if (w.wal.walStatus === 'committed') break;
    if (w.wal.walStatus === 'committed_storage') ready.push(w);
  }
  const previous = await latestDataStatus(ctx.ost, signal);
  if (ready.length === 0 && previous) return undefined;
  if (!options.force && ready.length < ctx.options.minCheckpointWalsNum) return undefined;

  const dataSequence = (await incSequence(ctx.etcd, etcdKeys.checkpointSeq)).toString();
  const withActions = await mapLimit(ready, 8, async (w) => ({
    walSequence: w.wal.walSequence,
    actions: await walActions(ctx, w.wal, signal),
  }));
  const result = await writeDataSnapshot({
    ost: ctx.ost,
    previous,
    wals: withActions,
    dataSequence,
    dataTypes: ctx.options.dataTypes,
    maxDataFileSize: ctx.options.maxDataFileSize,
    signal,
  });

  await updateWalsGuarded(ctx, ready, (chunk) =>
    chunk.map(({ wal }): Op => ({
      type: 'put',
      key: etcdKeys.wal(wal.walSequence),
      value: encodeWalData({ ...wal, walStatus: 'checkpointed' }),
    })),
  );
  ctx.logger.debug(
    {
      dataSequence,
      wals: ready.length,
      walSequence: result.status.walSequence,
      filesWritten: result.filesWritten,
      bytesWritten: result.bytesWritten,
    },
    'checkpoint written',
  );
  return result;
}

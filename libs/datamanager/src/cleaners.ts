import type { Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { listDataStatusSequences, readDataStatus } from './data-files.js';
import { deleteIfExists } from './ost-io.js';
import { DATA_FILE_RE, etcdKeys, LEGACY_WAL_HEADER_RE, ostPaths, WAL_HEADER_RE } from './paths.js';
import { forgetBatch, listBatches, loadBatch } from './wal-batches.js';
import { listEtcdWals, readWalHeader, updateWalsGuarded } from './wals.js';

/**
 * Deletes the oldest wals from etcd when more than `etcdWalsKeepNum` are there, but only
 * checkpointed ones and never past the first that is not. Returns how many were deleted.
 */
export async function cleanEtcdWals(ctx: DataManagerContext): Promise<number> {
  const { wals } = await listEtcdWals(ctx);
  const excess = wals.length - ctx.options.etcdWalsKeepNum;
  if (excess <= 0) return 0;
  const victims = [];
  for (const w of wals.slice(0, excess)) {
    if (w.wal.walStatus !== 'checkpointed') break;
    victims.push(w);
  }
  return updateWalsGuarded(ctx, victims, (chunk) =>
    chunk.map(({ kv }): Op => ({ type: 'delete', key: kv.key })),
  );
}

/**
 * Keeps the newest `checkpointsToKeep` data snapshots: deletes older status files and every
 * data/index file no kept snapshot uses. Files newer than the newest kept snapshot are never
 * touched (a checkpoint may be writing them). Returns how many objects were deleted.
 */
export async function cleanCheckpoints(
  ctx: DataManagerContext,
  signal?: AbortSignal,
): Promise<number> {
  const seqs = await listDataStatusSequences(ctx.ost, signal);
  const keep = ctx.options.checkpointsToKeep;
  if (seqs.length <= keep) return 0;
  const kept = seqs.slice(-keep);
  const newestKept = kept[kept.length - 1]!;
  const used = new Set<string>();
  for (const seq of kept) {
    const status = await readDataStatus(ctx.ost, seq, signal);
    for (const [type, refs] of Object.entries(status.files)) {
      for (const ref of refs) used.add(`${type}/${ref.id}`);
    }
  }
  let deleted = 0;
  for (const seq of seqs.slice(0, -keep)) {
    await deleteIfExists(ctx.ost, ostPaths.dataStatus(seq), { signal });
    deleted++;
  }
  const victims: string[] = [];
  for await (const obj of ctx.ost.list(ostPaths.dataDir, { recursive: true, signal })) {
    const rest = obj.key.slice(ostPaths.dataDir.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const type = rest.slice(0, slash);
    const m = DATA_FILE_RE.exec(rest.slice(slash + 1));
    if (!m) continue;
    const dataSeq = m[1]!;
    if (dataSeq > newestKept) continue;
    if (!used.has(`${type}/${dataSeq}-${m[2]}`)) victims.push(obj.key);
  }
  for (const key of victims) {
    await deleteIfExists(ctx.ost, key, { signal });
    deleted++;
  }
  return deleted;
}

/**
 * Deletes wals from the object storage that no reader needs any more: those before both the
 * oldest kept data snapshot and the first wal still in etcd (their data file, then their
 * header), legacy `.checkpointed` headers, and orphan wal data files that no wal refers to
 * (left by a crash between the data write and the commit) once older than
 * `orphanWalDataGraceMs`. Returns how many objects were deleted.
 */
export async function cleanStorageWals(
  ctx: DataManagerContext,
  signal?: AbortSignal,
): Promise<number> {
  const statusSeqs = await listDataStatusSequences(ctx.ost, signal);
  if (statusSeqs.length === 0) return 0;
  const oldestStatus = await readDataStatus(ctx.ost, statusSeqs[0]!, signal);
  const { wals } = await listEtcdWals(ctx);
  const candidates = [oldestStatus.walSequence, wals[0]?.wal.walSequence].filter(
    (s): s is string => !!s,
  );
  let deleted = 0;
  const referenced = new Set(wals.map((w) => w.wal.walDataFileId));
  if (candidates.length > 0) {
    const threshold = candidates.reduce((a, b) => (a < b ? a : b));
    for await (const obj of ctx.ost.list(ostPaths.walStatusDir, { signal })) {
      const name = obj.key.slice(ostPaths.walStatusDir.length);
      if (LEGACY_WAL_HEADER_RE.test(name)) {
        await deleteIfExists(ctx.ost, obj.key, { signal });
        deleted++;
        continue;
      }
      const m = WAL_HEADER_RE.exec(name);
      if (!m) continue;
      const header = await readWalHeader(ctx, m[1]!, signal);
      if (m[1]! < threshold) {
        await deleteIfExists(ctx.ost, ostPaths.walData(header.walDataFileId), { signal });
        await deleteIfExists(ctx.ost, obj.key, { signal });
        deleted += 2;
      } else {
        referenced.add(header.walDataFileId);
      }
    }
  }
  // a sync batch is named by its last wal: before the threshold, every wal of it goes (the
  // data file of a wal that was not inline, then the batch); the others keep their files
  const batchThreshold =
    candidates.length > 0 ? candidates.reduce((a, b) => (a < b ? a : b)) : undefined;
  for (const name of await listBatches(ctx, { signal })) {
    const batched = await loadBatch(ctx, name, signal);
    if (batchThreshold !== undefined && name < batchThreshold) {
      for (const w of batched) {
        if (w.data === undefined) {
          await deleteIfExists(ctx.ost, ostPaths.walData(w.walDataFileId), { signal });
          deleted++;
        }
      }
      await deleteIfExists(ctx.ost, ostPaths.walBatch(name), { signal });
      forgetBatch(ctx, name);
      deleted++;
    } else {
      for (const w of batched) referenced.add(w.walDataFileId);
    }
  }
  const cutoff = Date.now() - ctx.options.orphanWalDataGraceMs;
  const orphans: string[] = [];
  for await (const obj of ctx.ost.list(ostPaths.walDataDir, { signal })) {
    const fileId = obj.key.slice(ostPaths.walDataDir.length);
    if (!referenced.has(fileId) && obj.lastModified.getTime() <= cutoff) orphans.push(fileId);
  }
  if (orphans.length > 0) {
    // re-check etcd once: a wal may have been committed since the listing above
    const { wals: now } = await listEtcdWals(ctx);
    const committed = new Set(now.map((w) => w.wal.walDataFileId));
    for (const fileId of orphans) {
      if (committed.has(fileId)) continue;
      await deleteIfExists(ctx.ost, ostPaths.walData(fileId), { signal });
      deleted++;
    }
  }
  return deleted;
}

/**
 * Compacts change groups: bumps `changegroupsminrev` and deletes every change group not
 * updated within `changeGroupsRevisionRange` revisions (each delete guarded by its revision).
 */
export async function compactChangeGroups(ctx: DataManagerContext): Promise<number> {
  const { kv } = await ctx.etcd.get(etcdKeys.changeGroupsMinRev);
  const touched = await ctx.etcd.txn({
    compare: [
      {
        key: etcdKeys.changeGroupsMinRev,
        target: 'mod',
        operator: '==',
        value: kv?.modRevision ?? 0n,
      },
    ],
    success: [{ type: 'put', key: etcdKeys.changeGroupsMinRev, value: '' }],
  });
  if (!touched.succeeded) return 0;
  const limit = touched.revision - BigInt(ctx.options.changeGroupsRevisionRange);
  const old = (await ctx.etcd.list(etcdKeys.changeGroupsDir)).kvs.filter(
    (g) => g.modRevision < limit,
  );
  let deleted = 0;
  for (const g of old) {
    // each group guarded by its own revision: one updated meanwhile stays
    const res = await ctx.etcd.txn({
      compare: [{ key: g.key, target: 'mod', operator: '==', value: g.modRevision }],
      success: [{ type: 'delete', key: g.key }],
    });
    if (res.succeeded) deleted++;
  }
  return deleted;
}

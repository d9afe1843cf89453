import type { KeyValue, Op } from '@agola-ts/etcd';
import type { DataManagerContext } from './context.js';
import { decodeWalData, decodeWalDataFile, decodeWalHeader } from './encoding.js';
import { isNotExist } from '@agola-ts/ost';
import { readObject } from './ost-io.js';
import {
  batchedWalById,
  batchedWalByIdReload,
  batchedWalBySeq,
  listBatches,
  loadBatch,
  walFromBatch,
} from './wal-batches.js';
import { etcdKeys, ostPaths, WAL_HEADER_RE } from './paths.js';
import type { Action, WalData, WalHeader } from './types.js';

/** A wal key in etcd with its decoded value. */
export interface EtcdWal {
  kv: KeyValue;
  wal: WalData;
}

/** Every wal in etcd, in sequence order, read at one revision. */
export async function listEtcdWals(
  ctx: DataManagerContext,
  options: { revision?: bigint; startAfter?: string } = {},
): Promise<{ wals: EtcdWal[]; revision: bigint }> {
  const wals: EtcdWal[] = [];
  const pages = ctx.etcd.listPaged(etcdKeys.walsDir, { pageSize: 100, ...options });
  let next = await pages.next();
  while (!next.done) {
    for (const kv of next.value) wals.push({ kv, wal: decodeWalData(kv.value, kv.key) });
    next = await pages.next();
  }
  return { wals, revision: next.value };
}

/** Wals per etcd transaction when updating them (etcd allows 128 ops per transaction). */
export const TXN_CHUNK = 100;

/**
 * Applies `ops` to wals in order, a chunk per etcd transaction, each guarded by the wals' mod
 * revisions so nothing that changed them meanwhile is overwritten. Stops at the first chunk
 * whose guard fails (the wals changed: an etcd reset, another instance) and returns how many
 * wals were done.
 */
export async function updateWalsGuarded(
  ctx: DataManagerContext,
  wals: EtcdWal[],
  ops: (chunk: EtcdWal[]) => Op[],
): Promise<number> {
  let done = 0;
  for (let i = 0; i < wals.length; i += TXN_CHUNK) {
    const chunk = wals.slice(i, i + TXN_CHUNK);
    const res = await ctx.etcd.txn({
      compare: chunk.map(({ kv }) => ({
        key: kv.key,
        target: 'mod' as const,
        operator: '==' as const,
        value: kv.modRevision,
      })),
      success: ops(chunk),
    });
    if (!res.succeeded) break;
    done += chunk.length;
  }
  return done;
}

/**
 * The actions of a wal: inline from etcd when it has them, else from its data file, else
 * from the sync batch that holds it.
 */
export async function walActions(
  ctx: DataManagerContext,
  wal: WalData,
  signal?: AbortSignal,
): Promise<Array<Action & { data: Buffer }>> {
  if (wal.inlineData)
    return decodeWalDataFile(wal.inlineData, `inline data of wal ${wal.walSequence}`);
  try {
    return await readWalActions(ctx, wal.walDataFileId, signal);
  } catch (err) {
    if (!isNotExist(err)) throw err;
    const batched = await walFromBatch(ctx, wal.walSequence, signal);
    if (batched?.data === undefined) throw err;
    return decodeWalDataFile(batched.data, `data of wal ${wal.walSequence} in its sync batch`);
  }
}

/**
 * The actions of a wal, from its data file (`wals/data/<id>`), or from its sync batch when
 * that batch was just read (by {@link readWalHeader} of the same wal).
 */
export async function readWalActions(
  ctx: DataManagerContext,
  walDataFileId: string,
  signal?: AbortSignal,
): Promise<Array<Action & { data: Buffer }>> {
  const batched = batchedWalById(ctx, walDataFileId);
  if (batched?.data) {
    return decodeWalDataFile(batched.data, `data of wal ${batched.walSequence} in its sync batch`);
  }
  const key = ostPaths.walData(walDataFileId);
  try {
    return decodeWalDataFile(await readObject(ctx.ost, key, { signal }), key);
  } catch (err) {
    if (!isNotExist(err)) throw err;
    // its batch was read, then left the cache
    const again = await batchedWalByIdReload(ctx, walDataFileId, signal);
    if (again?.data === undefined) throw err;
    return decodeWalDataFile(again.data, `data of wal ${again.walSequence} in its sync batch`);
  }
}

/**
 * The sequences of the wals in the object storage, in order (after `startAfter`): Agola's
 * per-wal headers (`wals/status/<seq>.committed`) and the wals of the sync batches
 * (`wals/batches/`). Only up to etcd's `lastcommittedstoragewalseq` when etcd has it (the
 * wals after it are in etcd; a sync in progress is never half seen). `all` lists every wal
 * (recovery).
 */
export async function listStorageWals(
  ctx: DataManagerContext,
  options: { startAfter?: string; signal?: AbortSignal; all?: boolean } = {},
): Promise<string[]> {
  const upTo = options.all
    ? undefined
    : (await ctx.etcd.get(etcdKeys.lastCommittedStorageWalSeq)).kv?.value.toString();
  const seqs: string[] = [];
  const startAfter =
    options.startAfter !== undefined && options.startAfter !== ''
      ? ostPaths.walHeader(options.startAfter)
      : undefined;
  for await (const obj of ctx.ost.list(ostPaths.walStatusDir, {
    startAfter,
    signal: options.signal,
  })) {
    const m = WAL_HEADER_RE.exec(obj.key.slice(ostPaths.walStatusDir.length));
    if (!m) continue;
    if (upTo && m[1]! > upTo) break;
    seqs.push(m[1]!);
  }
  const after = options.startAfter ?? '';
  let batched = false;
  for (const name of await listBatches(ctx, { after, signal: options.signal })) {
    for (const w of await loadBatch(ctx, name, options.signal)) {
      if (w.walSequence <= after || (upTo && w.walSequence > upTo)) continue;
      seqs.push(w.walSequence);
      batched = true;
    }
    if (upTo && name >= upTo) break;
  }
  // both kinds: one ordered list (a wal written both ways counts once)
  return batched ? [...new Set(seqs)].sort() : seqs;
}

/** Reads a wal header from the object storage (its own object, or its sync batch). */
export async function readWalHeader(
  ctx: DataManagerContext,
  walSeq: string,
  signal?: AbortSignal,
): Promise<WalHeader> {
  // a wal of a batch read recently: no storage call
  const recent = batchedWalBySeq(ctx, walSeq);
  if (recent) return recent;
  const key = ostPaths.walHeader(walSeq);
  try {
    return decodeWalHeader(await readObject(ctx.ost, key, { signal }), key);
  } catch (err) {
    if (!isNotExist(err)) throw err;
    const batched = await walFromBatch(ctx, walSeq, signal);
    if (!batched) throw err;
    return batched;
  }
}

/**
 * Runs `fn` over `items` with at most `limit` at a time, keeping results in order. The first
 * failure stops the workers from taking more items and is what the call rejects with.
 */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}

/**
 * Whether the object storage still holds wal `walSeq` (its own header object, or its sync
 * batch). A follower uses it to tell "my position was cleaned away" from "my position is in a
 * batch": a header `stat` alone answers no for every batched wal.
 */
export async function storageWalExists(
  ctx: DataManagerContext,
  walSeq: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await readWalHeader(ctx, walSeq, signal);
    return true;
  } catch (err) {
    if (isNotExist(err)) return false;
    throw err;
  }
}

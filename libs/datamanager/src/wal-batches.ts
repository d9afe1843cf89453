import { newError } from '@agola-ts/errors';
import { isNotExist } from '@agola-ts/ost';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { readObject } from './ost-io.js';
import { ostPaths, WAL_BATCH_RE } from './paths.js';

/** One wal of a sync batch: its header, and its data when it was inline in etcd. */
export interface BatchWal {
  walSequence: string;
  previousWalSequence: string;
  walDataFileId: string;
  /** The wal data file's content (undefined: the file was written before the commit). */
  data: Buffer | undefined;
}

/**
 * Encodes a sync batch: one JSON object per line, `{"WalSequence", "PreviousWalSequence",
 * "WalDataFileID", "Data"?: base64}`, in sequence order.
 */
export function encodeBatch(wals: BatchWal[]): Buffer {
  return Buffer.from(
    wals
      .map((w) =>
        JSON.stringify({
          WalSequence: w.walSequence,
          PreviousWalSequence: w.previousWalSequence,
          WalDataFileID: w.walDataFileId,
          ...(w.data ? { Data: w.data.toString('base64') } : {}),
        }),
      )
      .join('\n') + '\n',
  );
}

/** Decodes a sync batch. @throws `ERR_DATAMANAGER_CORRUPT` */
export function decodeBatch(buf: Buffer, what: string): BatchWal[] {
  const out: BatchWal[] = [];
  for (const line of buf.toString().split('\n')) {
    if (line === '') continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw newError(`${what}: invalid JSON line: ${(err as Error).message}`, {
        code: DataManagerErrorCodes.Corrupt,
      });
    }
    const s = (k: string) => {
      const v = obj[k];
      if (typeof v !== 'string')
        throw newError(`${what}: ${k} must be a string`, { code: DataManagerErrorCodes.Corrupt });
      return v;
    };
    out.push({
      walSequence: s('WalSequence'),
      previousWalSequence: s('PreviousWalSequence'),
      walDataFileId: s('WalDataFileID'),
      data: typeof obj['Data'] === 'string' ? Buffer.from(obj['Data'], 'base64') : undefined,
    });
  }
  return out;
}

/** The sync batches in the object storage whose last wal is after `after`, in order. */
export async function listBatches(
  ctx: DataManagerContext,
  options: { after?: string; before?: string; signal?: AbortSignal } = {},
): Promise<string[]> {
  const names: string[] = [];
  for await (const obj of ctx.ost.list(ostPaths.walBatchesDir, {
    startAfter: options.after ? ostPaths.walBatch(options.after) : undefined,
    signal: options.signal,
  })) {
    const m = WAL_BATCH_RE.exec(obj.key.slice(ostPaths.walBatchesDir.length));
    if (!m) continue;
    if (options.before !== undefined && m[1]! >= options.before) break;
    names.push(m[1]!);
  }
  return names;
}

/** Decoded batches kept per datamanager context (a batch is a few MiB at most). */
const MAX_CACHED_BATCHES = 16;
interface BatchCache {
  /** Batches read or being read, least recently used first. */
  batches: Map<string, Promise<BatchWal[]>>;
  /** The wals of the cached batches, by data file id and by sequence. */
  byId: Map<string, BatchWal>;
  bySeq: Map<string, BatchWal>;
  /** The wals each cached batch put in the maps (removed with it). */
  loaded: Map<string, BatchWal[]>;
  /** Data file id -> batch name, for every batch read (ids only: small; outlives eviction). */
  batchOfId: Map<string, string>;
}
const caches = new WeakMap<DataManagerContext, BatchCache>();

function cacheOf(ctx: DataManagerContext): BatchCache {
  let c = caches.get(ctx);
  if (!c) {
    c = {
      batches: new Map(),
      byId: new Map(),
      bySeq: new Map(),
      loaded: new Map(),
      batchOfId: new Map(),
    };
    caches.set(ctx, c);
  }
  return c;
}

function dropFromCache(cache: BatchCache, name: string): void {
  cache.batches.delete(name);
  for (const w of cache.loaded.get(name) ?? []) {
    if (cache.bySeq.get(w.walSequence) === w) cache.bySeq.delete(w.walSequence);
    if (cache.byId.get(w.walDataFileId) === w) cache.byId.delete(w.walDataFileId);
  }
  cache.loaded.delete(name);
}

/** Reads (once, then from a small cache) the batch named by its last wal. */
export function loadBatch(
  ctx: DataManagerContext,
  name: string,
  signal?: AbortSignal,
): Promise<BatchWal[]> {
  const cache = cacheOf(ctx);
  let p = cache.batches.get(name);
  if (p) {
    cache.batches.delete(name);
    cache.batches.set(name, p);
    return p;
  }
  const key = ostPaths.walBatch(name);
  p = readObject(ctx.ost, key, { signal }).then((buf) => {
    const wals = decodeBatch(buf, key);
    if (cache.batchOfId.size > 200_000) cache.batchOfId.clear();
    for (const w of wals) cache.batchOfId.set(w.walDataFileId, name);
    // still cached (not evicted or forgotten while it was read): index its wals
    if (cache.batches.get(name) === p) {
      for (const w of wals) {
        cache.byId.set(w.walDataFileId, w);
        cache.bySeq.set(w.walSequence, w);
      }
      cache.loaded.set(name, wals);
    }
    return wals;
  });
  // a failed read is not cached
  p.catch(() => {
    if (cache.batches.get(name) === p) cache.batches.delete(name);
  });
  cache.batches.set(name, p);
  while (cache.batches.size > MAX_CACHED_BATCHES) {
    dropFromCache(cache, cache.batches.keys().next().value!);
  }
  return p;
}

/** Forgets a batch (deleted by the cleaner): its wals are no longer answered from memory. */
export function forgetBatch(ctx: DataManagerContext, name: string): void {
  dropFromCache(cacheOf(ctx), name);
}

/** The wal `walSequence` from the sync batch that holds it, or undefined. */
export async function walFromBatch(
  ctx: DataManagerContext,
  walSequence: string,
  signal?: AbortSignal,
): Promise<BatchWal | undefined> {
  const cached = cacheOf(ctx).bySeq.get(walSequence);
  if (cached) return cached;
  // the batch holding a wal is the first one named by a wal at or after it
  let name: string | undefined;
  for await (const obj of ctx.ost.list(ostPaths.walBatchesDir, {
    startAfter: `${ostPaths.walBatchesDir}${walSequence}`,
    signal,
  })) {
    const m = WAL_BATCH_RE.exec(obj.key.slice(ostPaths.walBatchesDir.length));
    if (m) {
      name = m[1]!;
      break;
    }
  }
  if (name === undefined) return undefined;
  try {
    return (await loadBatch(ctx, name, signal)).find((w) => w.walSequence === walSequence);
  } catch (err) {
    if (isNotExist(err)) return undefined; // cleaned meanwhile
    throw err;
  }
}

/** A batched wal by its data file id, when its batch was read recently (see {@link loadBatch}). */
export function batchedWalById(
  ctx: DataManagerContext,
  walDataFileId: string,
): BatchWal | undefined {
  return cacheOf(ctx).byId.get(walDataFileId);
}

/**
 * A batched wal by its data file id, reading its batch again when it left the cache; undefined
 * when no batch read by this instance holds it.
 */
export async function batchedWalByIdReload(
  ctx: DataManagerContext,
  walDataFileId: string,
  signal?: AbortSignal,
): Promise<BatchWal | undefined> {
  const cache = cacheOf(ctx);
  const hit = cache.byId.get(walDataFileId);
  if (hit) return hit;
  const name = cache.batchOfId.get(walDataFileId);
  if (name === undefined) return undefined;
  try {
    return (await loadBatch(ctx, name, signal)).find((w) => w.walDataFileId === walDataFileId);
  } catch (err) {
    if (isNotExist(err)) return undefined;
    throw err;
  }
}

/** A batched wal by its sequence, when its batch was read recently (see {@link loadBatch}). */
export function batchedWalBySeq(
  ctx: DataManagerContext,
  walSequence: string,
): BatchWal | undefined {
  return cacheOf(ctx).bySeq.get(walSequence);
}

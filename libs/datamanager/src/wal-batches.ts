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

/** Decoded batches kept per datamanager context (most recently used last). */
const MAX_CACHED_BATCHES = 64;
interface BatchCache {
  batches: Map<string, Promise<BatchWal[]>>;
  /** Wal data file id -> the wal (data files of batched wals live in their batch). */
  byId: Map<string, BatchWal>;
  /** Wal sequence -> the wal. */
  bySeq: Map<string, BatchWal>;
}
const caches = new WeakMap<DataManagerContext, BatchCache>();

function cacheOf(ctx: DataManagerContext): BatchCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = { batches: new Map(), byId: new Map(), bySeq: new Map() }));
  return c;
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
    if (cache.byId.size > 100_000) {
      cache.byId.clear();
      cache.bySeq.clear();
    }
    for (const w of wals) {
      cache.byId.set(w.walDataFileId, w);
      cache.bySeq.set(w.walSequence, w);
    }
    return wals;
  });
  // a failed read is not cached
  p.catch(() => cache.batches.delete(name));
  cache.batches.set(name, p);
  while (cache.batches.size > MAX_CACHED_BATCHES) {
    cache.batches.delete(cache.batches.keys().next().value!);
  }
  return p;
}

/** Forgets a batch (deleted by the cleaner). */
export function forgetBatch(ctx: DataManagerContext, name: string): void {
  const cache = cacheOf(ctx);
  cache.batches.delete(name);
  // its wals are gone from the storage: never answer for them from memory
  for (const [seq, w] of cache.bySeq) {
    if (seq <= name) {
      cache.bySeq.delete(seq);
      cache.byId.delete(w.walDataFileId);
    }
  }
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

/** A batched wal by its sequence, when its batch was read recently (see {@link loadBatch}). */
export function batchedWalBySeq(
  ctx: DataManagerContext,
  walSequence: string,
): BatchWal | undefined {
  return cacheOf(ctx).bySeq.get(walSequence);
}

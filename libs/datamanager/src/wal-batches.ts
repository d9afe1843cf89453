import { newError } from '@agola-ts/errors';
import { isNotExist } from '@agola-ts/ost';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { encodeWalHeader } from './encoding.js';
import { readObject } from './ost-io.js';
import { ostPaths, WAL_BATCH_RE } from './paths.js';
import { mapLimit } from './wals.js';

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

/**
 * Makes the per-wal objects (Agola's `wals/status/<seq>.committed` and `wals/data/<id>`) of
 * every sync batch after `after` whole again: a sync pass writes its batch durably, then the
 * per-wal objects without an fsync each, so a machine crash can leave them missing or empty.
 * A missing or wrongly sized one is rewritten (durably) from its batch. Idempotent; several
 * instances may run it at once. Returns how many objects were rewritten.
 */
export async function repairFromBatches(
  ctx: DataManagerContext,
  after: string,
  signal?: AbortSignal,
): Promise<number> {
  let repaired = 0;
  const sizeOf = async (key: string) => {
    try {
      return (await ctx.ost.stat(key, { signal })).size;
    } catch (err) {
      if (isNotExist(err)) return -1;
      throw err;
    }
  };
  for (const name of await listBatches(ctx, { after, signal })) {
    const key = ostPaths.walBatch(name);
    const wals = decodeBatch(await readObject(ctx.ost, key, { signal }), key);
    await mapLimit(wals, ctx.options.syncConcurrency, async (w) => {
      if (w.walSequence <= after) return;
      if (w.data) {
        const dataKey = ostPaths.walData(w.walDataFileId);
        if ((await sizeOf(dataKey)) !== w.data.length) {
          await ctx.ost.write(dataKey, w.data, { persist: true, signal });
          repaired++;
        }
      }
      const header = encodeWalHeader(w);
      const headerKey = ostPaths.walHeader(w.walSequence);
      if ((await sizeOf(headerKey)) !== Buffer.byteLength(header)) {
        await ctx.ost.write(headerKey, header, { persist: true, signal });
        repaired++;
      }
    });
  }
  if (repaired > 0) {
    ctx.logger.warn(
      { repaired, after },
      'datamanager: wal objects missing or incomplete in the object storage (a crash during a sync) were rewritten from their sync batches',
    );
  }
  return repaired;
}

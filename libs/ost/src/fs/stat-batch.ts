import { stat } from 'node:fs/promises';
import type { ObjectInfo } from '../types.js';
import { errnoOf } from './fs-store.js';

/** How many stat calls run at once while listing. */
const STAT_BATCH = 256;

/**
 * Stats files in order, a batch at a time, and yields those that are still regular files
 * (a file deleted between readdir and stat is skipped, as if listed a moment later).
 */
export async function* statInOrder(
  files: Iterable<{ key: string; path: string }>,
): AsyncGenerator<ObjectInfo> {
  let batch: { key: string; path: string }[] = [];
  const flush = async function* () {
    const stats = await Promise.all(
      batch.map(async (f) => {
        try {
          return await stat(f.path);
        } catch (err) {
          const code = errnoOf(err);
          if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
          throw err;
        }
      }),
    );
    for (let i = 0; i < batch.length; i++) {
      const st = stats[i];
      const f = batch[i];
      if (st && f && st.isFile()) yield { key: f.key, size: st.size, lastModified: st.mtime };
    }
    batch = [];
  };
  for (const f of files) {
    batch.push(f);
    if (batch.length >= STAT_BATCH) yield* flush();
  }
  if (batch.length > 0) yield* flush();
}

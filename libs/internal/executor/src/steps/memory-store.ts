import { Readable } from 'node:stream';
import type { ArtifactStore } from './context.js';

/** An {@link ArtifactStore} in memory, with the runservice's rules (for tests and tools). */
export interface MemoryArtifactStore extends ArtifactStore {
  /** Stores a workspace archive as a task's `save_to_workspace` step would have. */
  setArchive(taskId: string, step: number, data: Buffer): void;
  /** The stored caches' keys, oldest first. */
  cacheKeys(): string[];
}

/**
 * An in-memory artifact store: workspace archives by task and step; caches by key, where a
 * second save of a key answers `exists` (the runservice's 304) and a prefix lookup returns
 * the newest cache whose key starts with the prefix.
 *
 * @example
 * ```ts
 * const store = createMemoryArtifactStore();
 * await saveCache(ctx, { key: 'deps-{{ md5sum "go.sum" }}', contents }, { cachePrefix: 'p1', store });
 * ```
 */
export function createMemoryArtifactStore(): MemoryArtifactStore {
  const archives = new Map<string, Buffer>();
  const caches = new Map<string, { data: Buffer; seq: number }>();
  let seq = 0;
  const read = async (stream: Readable) => {
    const chunks: Buffer[] = [];
    for await (const c of stream)
      chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  };
  return {
    setArchive(taskId, step, data) {
      archives.set(`${taskId}/${step}`, data);
    },
    async getArchive(taskId, step) {
      const data = archives.get(`${taskId}/${step}`);
      if (!data) throw new Error(`no archive for task ${taskId} step ${step}`);
      return Readable.from([data]);
    },
    async headCache(key) {
      return caches.has(key);
    },
    async getCache(prefix) {
      let best: { data: Buffer; seq: number } | undefined;
      for (const [key, c] of caches) {
        if (key.startsWith(prefix) && (!best || c.seq > best.seq)) best = c;
      }
      return best ? Readable.from([best.data]) : undefined;
    },
    async putCache(key, archive) {
      const data = await read(archive);
      if (caches.has(key)) return 'exists';
      caches.set(key, { data, seq: ++seq });
      return 'saved';
    },
    cacheKeys() {
      return [...caches].sort((a, b) => a[1].seq - b[1].seq).map(([k]) => k);
    },
  };
}

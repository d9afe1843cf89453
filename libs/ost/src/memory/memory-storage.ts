import { throwIfAborted, notExistError } from '../errors.js';
import { compareKeys } from '../keys.js';
import { bufferReadable } from '../streams.js';
import {
  createObjectStorageFromDriver,
  withBasePath,
  type ObjectStorageDriver,
} from '../storage.js';
import type { CommonStorageOptions, ObjectInfo, ObjectStorage } from '../types.js';

/** Options of {@link createMemoryStorage}. */
export type MemoryStorageOptions = CommonStorageOptions;

interface Stored {
  data: Buffer;
  lastModified: Date;
}

/**
 * An object storage in process memory, for unit tests of code that uses object storage. It
 * keeps the whole contract (validation, ordering, atomic writes, not-exist errors) and
 * passes the conformance suite. Contents are lost with the object.
 *
 * @example
 * ```ts
 * const storage = createMemoryStorage();
 * await storage.write('a/b', 'hello');
 * ```
 */
export function createMemoryStorage(options: MemoryStorageOptions = {}): ObjectStorage {
  const objects = new Map<string, Stored>();
  const info = (key: string, o: Stored): ObjectInfo => ({
    key,
    size: o.data.length,
    lastModified: o.lastModified,
  });
  const driver: ObjectStorageDriver = {
    name: 'memory',
    async stat(key) {
      const o = objects.get(key);
      if (!o) throw notExistError(key);
      return info(key, o);
    },
    async read(key, range) {
      const o = objects.get(key);
      if (!o) throw notExistError(key);
      // Buffers are never mutated once stored, so a view is safe.
      const part = o.data.subarray(range.start, range.end ?? o.data.length);
      return bufferReadable(part);
    },
    async write(key, data, { signal }) {
      let buffer: Buffer;
      if (data.kind === 'buffer') {
        buffer = Buffer.from(data.buffer); // copy: the caller may reuse its buffer
      } else {
        const chunks: Buffer[] = [];
        for await (const chunk of data.stream as AsyncIterable<Buffer>) {
          throwIfAborted(signal, `write ${JSON.stringify(key)}`);
          chunks.push(Buffer.from(chunk));
        }
        buffer = Buffer.concat(chunks);
      }
      throwIfAborted(signal, `write ${JSON.stringify(key)}`);
      objects.set(key, { data: buffer, lastModified: new Date() });
    },
    async delete(key) {
      if (!objects.delete(key)) throw notExistError(key);
    },
    async *list(prefix, { startAfter, recursive }) {
      const keys = [...objects.keys()]
        .filter(
          (k) =>
            k.startsWith(prefix) &&
            (startAfter === undefined || compareKeys(k, startAfter) > 0) &&
            (recursive || !k.includes('/', prefix.length)),
        )
        .sort(compareKeys);
      for (const k of keys) {
        const o = objects.get(k);
        if (o) yield info(k, o);
      }
    },
  };
  return withBasePath(createObjectStorageFromDriver(driver), options.basePath ?? '');
}

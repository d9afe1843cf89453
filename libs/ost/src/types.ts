import type { Readable } from 'node:stream';
import type { OstLogger } from './logger.js';

/** What {@link ObjectStorage.stat} and {@link ObjectStorage.list} report about an object. */
export interface ObjectInfo {
  /** The object's key, relative to the storage's base path. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** When the object was last written. */
  lastModified: Date;
}

/** Options every call takes. */
export interface CallOptions {
  /** Cancels the call; it then rejects with `ERR_OST_ABORTED`. */
  signal?: AbortSignal;
}

/** Options of {@link ObjectStorage.read}. */
export interface ReadOptions extends CallOptions {
  /** First byte to read (inclusive). @default 0 */
  start?: number;
  /**
   * End of the range, **exclusive** (like `Buffer.subarray`). A range past the end of the
   * object is cut at its end; `start` past the end gives an empty stream.
   * @default the object's size
   */
  end?: number;
}

/** Options of {@link ObjectStorage.write}. */
export interface WriteOptions extends CallOptions {
  /**
   * The exact length of the data, when known. A stream that turns out shorter or longer fails
   * the write with `ERR_OST_SIZE_MISMATCH` and nothing is written.
   */
  size?: number;
  /** Durable on return (posix: fsync of the file and its directories). @default false */
  persist?: boolean;
}

/** Options of {@link ObjectStorage.list}. */
export interface ListOptions extends CallOptions {
  /** Only keys strictly greater than this one (in key order). */
  startAfter?: string;
  /**
   * `true`: every key that starts with the prefix. `false`: only the objects directly at the
   * prefix's level, i.e. keys with no `/` after the prefix (directories are never reported).
   * @default false
   */
  recursive?: boolean;
}

/**
 * What {@link ObjectStorage.write} accepts: a string (written as UTF-8), bytes, or a
 * readable stream / async iterable of bytes of known or unknown length.
 */
export type WriteData = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * An object storage: a flat map from keys to byte strings, with ordered listing.
 *
 * Keys are `/`-separated paths: not empty, no leading `/`, no empty, `.` or `..` segment,
 * no NUL. Keys are ordered by Unicode code point (the same as UTF-8 byte order, which is what
 * S3 uses). Every driver (posix, posixflat, s3, memory) implements this contract and passes
 * the shared conformance suite (`@agola-ts/ost/testing`).
 */
export interface ObjectStorage {
  /**
   * Size and modification time of an object.
   * @throws `ERR_OST_NOT_EXIST` when there is no object at `key`; `ERR_OST_INVALID_KEY`.
   */
  stat(key: string, options?: CallOptions): Promise<ObjectInfo>;

  /**
   * Opens an object (or a byte range of it) for reading. Resolves once the object is known to
   * exist; errors while streaming are `AgolaError`s emitted by the stream.
   * @throws `ERR_OST_NOT_EXIST`; `ERR_OST_INVALID_ARGUMENT` for a bad range.
   * @example
   * ```ts
   * const entry = await buffer(await storage.read('data/x.data', { start: 120, end: 180 }));
   * ```
   */
  read(key: string, options?: ReadOptions): Promise<Readable>;

  /**
   * Writes an object atomically: a reader sees the old object or the new one, never a part;
   * a failed or aborted write leaves no partial object (and the old one, if any, intact).
   * A stream given as `data` is consumed, and destroyed if the write fails.
   * @throws `ERR_OST_SIZE_MISMATCH`; `ERR_OST_KEY_CONFLICT` (posix); `ERR_OST_ABORTED`.
   */
  write(key: string, data: WriteData, options?: WriteOptions): Promise<void>;

  /**
   * Deletes an object.
   * @throws `ERR_OST_NOT_EXIST` when it does not exist, except on s3, where deleting a
   * missing object succeeds (S3's DeleteObject is idempotent and a check would be racy).
   */
  delete(key: string, options?: CallOptions): Promise<void>;

  /**
   * Lists objects whose key starts with `prefix`, in key order. Leaving the `for await`
   * loop early (`break`, `return`, a throw) stops the listing.
   * @example
   * ```ts
   * for await (const obj of storage.list('wals/status/', { startAfter: 'wals/status/0042' })) {
   *   console.log(obj.key, obj.size);
   * }
   * ```
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
}

/** Options every driver factory accepts. */
export interface CommonStorageOptions {
  /**
   * Keys are stored under this path (`'configdata/'`); list results are relative to it and no
   * key can reach outside it. A missing trailing `/` is added. @default ''
   */
  basePath?: string;
  /** pino-compatible logger. @default silent */
  logger?: OstLogger;
}

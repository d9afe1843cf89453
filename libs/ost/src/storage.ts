import { pipeline, Readable as NodeReadable, type Readable } from 'node:stream';
import { AgolaError, newError, wrap } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';
import { abortedError, backendError, throwIfAborted } from './errors.js';
import { normalizeBasePath, validateKey, validatePrefix } from './keys.js';
import { guardReadable, isReadableStream, sizeGuard } from './streams.js';
import type {
  CallOptions,
  ListOptions,
  ObjectInfo,
  ObjectStorage,
  ReadOptions,
  WriteData,
  WriteOptions,
} from './types.js';

/** What a driver's `write` gets: bytes in memory, or a stream with its length when known. */
export type DriverWriteData =
  | { kind: 'buffer'; buffer: Buffer }
  | { kind: 'stream'; stream: Readable; size: number | undefined };

/**
 * The small interface a driver implements. Keys and prefixes are already validated, ranges
 * are checked and data is normalised by {@link createObjectStorageFromDriver}, which also
 * maps unexpected errors and checks signals.
 */
export interface ObjectStorageDriver {
  /** Driver name for messages (`posix`, `s3`...). */
  readonly name: string;
  stat(key: string, signal: AbortSignal | undefined): Promise<ObjectInfo>;
  /** `end` is exclusive and may be past the object's end. */
  read(
    key: string,
    range: { start: number; end: number | undefined },
    signal: AbortSignal | undefined,
  ): Promise<Readable>;
  write(
    key: string,
    data: DriverWriteData,
    options: { persist: boolean; signal: AbortSignal | undefined },
  ): Promise<void>;
  delete(key: string, signal: AbortSignal | undefined): Promise<void>;
  list(
    prefix: string,
    options: {
      startAfter: string | undefined;
      recursive: boolean;
      signal: AbortSignal | undefined;
    },
  ): AsyncIterable<ObjectInfo>;
}

function mapError(
  err: unknown,
  driver: string,
  what: string,
  signal: AbortSignal | undefined,
): AgolaError {
  if (err instanceof AgolaError && err.code !== OstErrorCodes.Backend) return err;
  if (signal?.aborted) return abortedError(signal, what);
  if (err instanceof AgolaError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return wrap(err, `${what}: aborted`, { code: OstErrorCodes.Aborted });
  }
  return backendError(err, `${driver}: ${what}`);
}

function checkInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw newError(`${name} must be a non-negative integer, got ${String(value)}`, {
      code: OstErrorCodes.InvalidArgument,
    });
  }
}

function normalizeData(key: string, data: WriteData, size: number | undefined): DriverWriteData {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    const buffer =
      typeof data === 'string'
        ? Buffer.from(data, 'utf8')
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (size !== undefined && size !== buffer.length) {
      throw newError(
        `writing ${JSON.stringify(key)}: data is ${buffer.length} bytes, size says ${size}`,
        { code: OstErrorCodes.SizeMismatch },
      );
    }
    return { kind: 'buffer', buffer };
  }
  let stream: Readable;
  if (isReadableStream(data)) stream = data;
  else if (data !== null && typeof data === 'object' && Symbol.asyncIterator in data) {
    stream = NodeReadable.from(data, { objectMode: false });
  } else {
    throw newError(`writing ${JSON.stringify(key)}: data must be a string, bytes or a stream`, {
      code: OstErrorCodes.InvalidArgument,
    });
  }
  if (size !== undefined) {
    const guard = sizeGuard(size, key);
    pipeline(stream, guard, () => undefined);
    stream = guard;
  }
  return { kind: 'stream', stream, size };
}

/**
 * Turns a driver into an {@link ObjectStorage}: validates keys, prefixes and ranges once for
 * every driver, normalises write data, honours already-aborted signals, and wraps any error
 * that is not ours as `ERR_OST_BACKEND` (the original kept as cause).
 */
export function createObjectStorageFromDriver(driver: ObjectStorageDriver): ObjectStorage {
  const name = driver.name;
  return {
    async stat(key: string, options: CallOptions = {}) {
      const { signal } = options;
      validateKey(key);
      const what = `stat ${JSON.stringify(key)}`;
      throwIfAborted(signal, what);
      try {
        return await driver.stat(key, signal);
      } catch (err) {
        throw mapError(err, name, what, signal);
      }
    },

    async read(key: string, options: ReadOptions = {}) {
      const { signal, start = 0, end } = options;
      validateKey(key);
      checkInteger('start', start);
      checkInteger('end', end);
      if (end !== undefined && end < start) {
        throw newError(`invalid range: end ${end} is before start ${start}`, {
          code: OstErrorCodes.InvalidArgument,
        });
      }
      const what = `read ${JSON.stringify(key)}`;
      throwIfAborted(signal, what);
      let stream: Readable;
      try {
        stream = await driver.read(key, { start, end }, signal);
      } catch (err) {
        throw mapError(err, name, what, signal);
      }
      return guardReadable(stream, (err) => mapError(err, name, what, signal), signal);
    },

    async write(key: string, data: WriteData, options: WriteOptions = {}) {
      const { signal, size, persist = false } = options;
      // Release the caller's stream without an error: an 'error' event nobody listens to
      // would crash the process, and the caller gets the error from this promise.
      const destroyInput = () => {
        if (isReadableStream(data) && !data.destroyed) data.destroy();
      };
      const what = `write ${JSON.stringify(key)}`;
      let normalized: DriverWriteData;
      try {
        validateKey(key);
        checkInteger('size', size);
        throwIfAborted(signal, what);
        normalized = normalizeData(key, data, size);
      } catch (err) {
        destroyInput();
        throw err;
      }
      try {
        await driver.write(key, normalized, { persist, signal });
      } catch (err) {
        const mapped = mapError(err, name, what, signal);
        if (normalized.kind === 'stream') normalized.stream.destroy();
        destroyInput();
        throw mapped;
      }
    },

    async delete(key: string, options: CallOptions = {}) {
      const { signal } = options;
      validateKey(key);
      const what = `delete ${JSON.stringify(key)}`;
      throwIfAborted(signal, what);
      try {
        await driver.delete(key, signal);
      } catch (err) {
        throw mapError(err, name, what, signal);
      }
    },

    list(prefix: string, options: ListOptions = {}) {
      const { signal, startAfter, recursive = false } = options;
      return {
        async *[Symbol.asyncIterator]() {
          validatePrefix(prefix);
          if (startAfter !== undefined && typeof startAfter !== 'string') {
            throw newError('startAfter must be a string', { code: OstErrorCodes.InvalidArgument });
          }
          const what = `list ${JSON.stringify(prefix)}`;
          throwIfAborted(signal, what);
          try {
            for await (const info of driver.list(prefix, { startAfter, recursive, signal })) {
              yield info;
              throwIfAborted(signal, what);
            }
          } catch (err) {
            throw mapError(err, name, what, signal);
          }
        },
      };
    },
  };
}

/**
 * A view of `storage` under `basePath`: every key is relative to it, list results have it
 * stripped, and no key can reach outside it (keys are validated, so `..` never appears).
 *
 * @throws `ERR_OST_INVALID_KEY` for an invalid base path.
 * @example
 * ```ts
 * const configdata = withBasePath(storage, 'configdata/');
 * await configdata.write('wals/data/1', bytes); // stored as configdata/wals/data/1
 * ```
 */
export function withBasePath(storage: ObjectStorage, basePath: string): ObjectStorage {
  const base = normalizeBasePath(basePath);
  if (base === '') return storage;
  const strip = (info: ObjectInfo): ObjectInfo => ({ ...info, key: info.key.slice(base.length) });
  return {
    async stat(key, options) {
      validateKey(key);
      return strip(await storage.stat(base + key, options));
    },
    async read(key, options) {
      validateKey(key);
      return storage.read(base + key, options);
    },
    async write(key, data, options) {
      try {
        validateKey(key);
      } catch (err) {
        if (isReadableStream(data)) data.destroy();
        throw err;
      }
      return storage.write(base + key, data, options);
    },
    async delete(key, options) {
      validateKey(key);
      return storage.delete(base + key, options);
    },
    list(prefix, options = {}) {
      return {
        async *[Symbol.asyncIterator]() {
          validatePrefix(prefix);
          const { startAfter } = options;
          const inner = storage.list(base + prefix, {
            ...options,
            startAfter: startAfter === undefined ? undefined : base + startAfter,
          });
          for await (const info of inner) yield strip(info);
        },
      };
    },
  };
}

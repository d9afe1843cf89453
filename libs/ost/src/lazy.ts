import { wrap } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';
import { isReadableStream } from './streams.js';
import type { ObjectStorage } from './types.js';

/**
 * A storage whose driver is loaded on first use (by a dynamic import), so creating it from
 * a config costs nothing until it is used. A failed load is retried by the next call.
 */
export function lazyStorage(name: string, load: () => Promise<ObjectStorage>): ObjectStorage {
  let loading: Promise<ObjectStorage> | undefined;
  const get = (): Promise<ObjectStorage> =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw wrap(err, `${name} storage: loading the driver`, {
        code: isModuleNotFound(err) ? OstErrorCodes.DriverUnavailable : OstErrorCodes.Backend,
      });
    }));
  return {
    stat: async (key, options) => (await get()).stat(key, options),
    read: async (key, options) => (await get()).read(key, options),
    async write(key, data, options) {
      let storage: ObjectStorage;
      try {
        storage = await get();
      } catch (err) {
        if (isReadableStream(data)) data.destroy();
        throw err;
      }
      return storage.write(key, data, options);
    },
    delete: async (key, options) => (await get()).delete(key, options),
    list: (prefix, options) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await get()).list(prefix, options);
      },
    }),
  };
}

/** Node's "module not found" codes: `ERR_MODULE_NOT_FOUND` (import) and `MODULE_NOT_FOUND` (require). */
function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.endsWith('MODULE_NOT_FOUND');
}

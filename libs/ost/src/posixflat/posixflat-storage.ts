import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from '../codes.js';
import { backendError, throwIfAborted } from '../errors.js';
import { errnoOf, FsStore } from '../fs/fs-store.js';
import { statInOrder } from '../fs/stat-batch.js';
import { compareKeys } from '../keys.js';
import { silentLogger, type OstLogger } from '../logger.js';
import {
  createObjectStorageFromDriver,
  withBasePath,
  type ObjectStorageDriver,
} from '../storage.js';
import type { CommonStorageOptions, ObjectInfo, ObjectStorage } from '../types.js';
import { escapeFlatKey, flatListRoot, unescapeFlatKey } from './posixflat-escape.js';

/** Options of {@link createPosixFlatStorage}. */
export interface PosixFlatStorageOptions extends CommonStorageOptions {
  /** Root directory: objects under `<path>/data`, writes in progress under `<path>/tmp`. */
  path: string;
}

/**
 * An object storage on a local file system with Agola's `posixflat` layout: keys are escaped
 * into a flat namespace (see {@link escapeFlatKey}), so `a` and `a/b` can both exist. Same
 * atomic write (temp file + rename), persist and pruning as posix.
 *
 * Available from code only; service config files select `posix` or `s3`. Listing reads the
 * whole subtree under the prefix and sorts it, so it holds the matching keys in memory.
 *
 * @throws `ERR_OST_INVALID_CONFIG` without a path.
 * @example
 * ```ts
 * const storage = createPosixFlatStorage({ path: '/tmp/ost' });
 * await storage.write('a', 'x');
 * await storage.write('a/b', 'y'); // fine here, a conflict on posix
 * ```
 */
export function createPosixFlatStorage(options: PosixFlatStorageOptions): ObjectStorage {
  if (typeof options.path !== 'string' || options.path === '') {
    throw newError('posixflat storage: path is required', { code: OstErrorCodes.InvalidConfig });
  }
  const log = options.logger ?? silentLogger;
  const store = new FsStore(options.path, log);
  const driver: ObjectStorageDriver = {
    name: 'posixflat',
    stat: (key) => store.stat(escapeFlatKey(key), key),
    read: (key, range) => store.read(escapeFlatKey(key), key, range),
    write: (key, data, opts) => store.write(escapeFlatKey(key), key, data, opts),
    delete: (key) => store.delete(escapeFlatKey(key), key),
    list: (prefix, opts) => listFlat(store, prefix, opts, log),
  };
  return withBasePath(createObjectStorageFromDriver(driver), options.basePath ?? '');
}

async function* listFlat(
  store: FsStore,
  prefix: string,
  opts: { startAfter: string | undefined; recursive: boolean; signal: AbortSignal | undefined },
  log: OstLogger,
): AsyncGenerator<ObjectInfo> {
  const { startAfter, recursive, signal } = opts;
  const dataDir = store.dataDir;
  const found: { key: string; path: string }[] = [];

  async function walk(rel: string): Promise<void> {
    throwIfAborted(signal, `list ${JSON.stringify(prefix)}`);
    let dirents;
    try {
      dirents = await readdir(join(dataDir, ...rel.split('/')), { withFileTypes: true });
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw backendError(err, `reading directory of ${JSON.stringify(rel)}`);
    }
    for (const d of dirents) {
      const path = rel + d.name;
      if (d.isDirectory()) {
        await walk(`${path}/`);
        continue;
      }
      if (!d.isFile()) continue;
      const key = unescapeFlatKey(path);
      if (key === undefined) {
        log.debug({ path }, 'ost posixflat: ignoring a file that is not an escaped key');
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      if (!recursive && key.includes('/', prefix.length)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      found.push({ key, path: join(dataDir, ...path.split('/')) });
    }
  }

  const root = flatListRoot(prefix);
  // Symlinks met while walking are skipped; the starting directory is checked once.
  if (!(await store.listableDir(join(dataDir, ...root.split('/')), prefix))) return;
  await walk(root);
  found.sort((a, b) => compareKeys(a.key, b.key));
  yield* statInOrder(found);
}

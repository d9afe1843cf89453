import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from '../codes.js';
import { backendError, throwIfAborted } from '../errors.js';
import { errnoOf, FsStore } from '../fs/fs-store.js';
import { statInOrder } from '../fs/stat-batch.js';
import { compareKeys } from '../keys.js';
import { silentLogger } from '../logger.js';
import {
  createObjectStorageFromDriver,
  withBasePath,
  type ObjectStorageDriver,
} from '../storage.js';
import type { CommonStorageOptions, ObjectInfo, ObjectStorage } from '../types.js';

/** Options of {@link createPosixStorage}. */
export interface PosixStorageOptions extends CommonStorageOptions {
  /** Root directory: objects live under `<path>/data`, writes in progress under `<path>/tmp`. */
  path: string;
}

/**
 * An object storage on a local file system, Agola's `posix` layout: the key `a/b/c` is the
 * file `<path>/data/a/b/c` (no escaping, so the tree is easy to inspect). Writes go to
 * `<path>/tmp` and are renamed into place (fsync first with `persist`); deleting prunes
 * directories left empty.
 *
 * Because keys are real paths, a key cannot be both an object and a "directory" of other
 * keys: writing `a/b` while `a` exists (or the reverse) fails with `ERR_OST_KEY_CONFLICT`.
 * Use posixflat where both must coexist.
 *
 * @throws `ERR_OST_INVALID_CONFIG` without a path; `ERR_OST_INVALID_KEY` for a bad base path.
 * @example
 * ```ts
 * const storage = createPosixStorage({ path: '/var/lib/agola/ost', basePath: 'configdata/' });
 * await storage.write('wals/data/1', walBytes, { persist: true });
 * ```
 */
export function createPosixStorage(options: PosixStorageOptions): ObjectStorage {
  if (typeof options.path !== 'string' || options.path === '') {
    throw newError('posix storage: path is required', { code: OstErrorCodes.InvalidConfig });
  }
  const store = new FsStore(options.path, options.logger ?? silentLogger);
  const driver: ObjectStorageDriver = {
    name: 'posix',
    stat: (key) => store.stat(key, key),
    read: (key, range) => store.read(key, key, range),
    write: (key, data, opts) => store.write(key, key, data, opts),
    delete: (key) => store.delete(key, key),
    list: (prefix, opts) => listTree(store, prefix, opts),
  };
  return withBasePath(createObjectStorageFromDriver(driver), options.basePath ?? '');
}

interface Entry {
  name: string;
  dir: boolean;
  /** Sort key: a directory sorts as `name/`, since all keys in it start with that. */
  sortKey: string;
}

async function readDirSorted(abs: string): Promise<Entry[]> {
  let dirents;
  try {
    dirents = await readdir(abs, { withFileTypes: true });
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw backendError(err, `reading directory ${abs}`);
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    if (d.isDirectory()) entries.push({ name: d.name, dir: true, sortKey: `${d.name}/` });
    else if (d.isFile()) entries.push({ name: d.name, dir: false, sortKey: d.name });
  }
  return entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/**
 * Walks the tree under the prefix's directory in key order. Whole directories that sort
 * before `startAfter` are skipped without being read.
 */
async function* listTree(
  store: FsStore,
  prefix: string,
  opts: { startAfter: string | undefined; recursive: boolean; signal: AbortSignal | undefined },
): AsyncGenerator<ObjectInfo> {
  const { startAfter, recursive, signal } = opts;
  const slash = prefix.lastIndexOf('/');
  const baseDir = prefix.slice(0, slash + 1);
  const namePrefix = prefix.slice(slash + 1);
  const dataDir = store.dataDir;
  // Symlinks met while walking are skipped (neither file nor directory); the prefix's own
  // directory is checked once, so a symlinked directory cannot list what is outside.
  if (!(await store.listableDir(join(dataDir, ...baseDir.split('/')), prefix))) return;

  async function* walk(dirKey: string, only: string): AsyncGenerator<ObjectInfo> {
    throwIfAborted(signal, `list ${JSON.stringify(prefix)}`);
    const entries = await readDirSorted(join(dataDir, ...dirKey.split('/')));
    let files: { key: string; path: string }[] = [];
    for (const e of entries) {
      if (only !== '' && !e.name.startsWith(only)) continue;
      const key = dirKey + e.name;
      if (!e.dir) {
        if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
        files.push({ key, path: join(dataDir, ...key.split('/')) });
        continue;
      }
      if (!recursive) continue;
      const sub = `${key}/`;
      if (
        startAfter !== undefined &&
        compareKeys(sub, startAfter) < 0 &&
        !startAfter.startsWith(sub)
      ) {
        continue;
      }
      // Emit the files sorted before this directory, then descend.
      yield* statInOrder(files);
      files = [];
      yield* walk(sub, '');
    }
    yield* statInOrder(files);
  }

  yield* walk(baseDir, namePrefix);
}

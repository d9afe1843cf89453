import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import {
  mkdir,
  open,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { AgolaError, is, newError, wrap } from '@agola-ts/errors';
import { OstErrorCodes } from '../codes.js';
import { backendError, notExistError, throwIfAborted } from '../errors.js';
import type { OstLogger } from '../logger.js';
import type { DriverWriteData } from '../storage.js';
import { bufferReadable, emptyReadable } from '../streams.js';
import type { ObjectInfo } from '../types.js';

const DIR_MODE = 0o770;
const FILE_MODE = 0o660;
const READ_CHUNK = 512 * 1024;
/** Ranges up to this size are read in one call instead of streamed. */
const WHOLE_READ_LIMIT = 1024 * 1024;

/** Node system error code, if any. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A "this path is not an object" condition: missing, or a directory along the way. */
function isMissing(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/**
 * Files under `<root>/data` (objects) and `<root>/tmp` (writes in progress), shared by the
 * posix and posixflat drivers, which differ only in how a key maps to a relative path.
 * Writes go to a temp file that is renamed into place, so readers never see a partial object
 * and a failed write leaves nothing behind in `data/`.
 */
export class FsStore {
  readonly dataDir: string;
  readonly tmpDir: string;
  private ready: Promise<void> | undefined;
  private realRoot: Promise<string> | undefined;

  constructor(
    root: string,
    private readonly log: OstLogger,
  ) {
    this.dataDir = join(root, 'data');
    this.tmpDir = join(root, 'tmp');
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dataDir, { recursive: true, mode: DIR_MODE });
      await mkdir(this.tmpDir, { recursive: true, mode: DIR_MODE });
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw backendError(err, `creating ${this.dataDir} and ${this.tmpDir}`);
    });
    return this.ready;
  }

  /** The resolved data directory (the root may itself sit behind a symlink: that is allowed). */
  private dataReal(): Promise<string> {
    this.realRoot ??= realpath(this.dataDir).catch((err: unknown) => {
      this.realRoot = undefined;
      throw err;
    });
    return this.realRoot;
  }

  /**
   * Throws `ERR_OST_OUTSIDE_ROOT` when the resolved path `real` is not inside the data
   * directory: a symbolic link in the tree pointed out of it.
   */
  private async assertInside(real: string, key: string): Promise<void> {
    const root = await this.dataReal();
    if (real === root || real.startsWith(root + sep)) return;
    throw newError(
      `key ${JSON.stringify(key)} leads out of the storage root through a symbolic link: refused`,
      { code: OstErrorCodes.OutsideRoot },
    );
  }

  /** Resolves a path (ENOENT and friends are thrown as not-exist) and checks it is inside. */
  private async resolveInside(path: string, key: string): Promise<string> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      if (isMissing(err) || errnoOf(err) === 'ELOOP') throw notExistError(key, err);
      throw backendError(err, `resolving ${JSON.stringify(key)}`);
    }
    await this.assertInside(real, key);
    return real;
  }

  /** Checks the deepest existing directory of `dir` (itself when it exists) is inside. */
  private async assertExistingAncestorInside(dir: string, key: string): Promise<void> {
    for (;;) {
      let real: string;
      try {
        real = await realpath(dir);
      } catch (err) {
        const parent = dirname(dir);
        if (errnoOf(err) === 'ENOENT' && parent !== dir && dir !== this.dataDir) {
          dir = parent;
          continue;
        }
        return; // ENOTDIR and the like: mkdir reports the conflict
      }
      await this.assertInside(real, key);
      return;
    }
  }

  /**
   * For listing: whether the directory of a prefix exists, after checking it does not lead
   * out of the root (a symlinked directory is refused like a symlinked object).
   */
  async listableDir(abs: string, prefix: string): Promise<boolean> {
    try {
      await this.resolveInside(abs, prefix);
      return true;
    } catch (err) {
      if (is(err, OstErrorCodes.NotExist)) return false;
      throw err;
    }
  }

  /** Absolute path of a relative (`/`-separated) object path. */
  abs(rel: string): string {
    return join(this.dataDir, ...rel.split('/'));
  }

  async stat(rel: string, key: string): Promise<ObjectInfo> {
    let st;
    try {
      st = await stat(await this.resolveInside(this.abs(rel), key));
    } catch (err) {
      if (err instanceof AgolaError) throw err;
      if (isMissing(err)) throw notExistError(key, err);
      throw backendError(err, `stat ${JSON.stringify(key)}`);
    }
    if (!st.isFile()) throw notExistError(key);
    return { key, size: st.size, lastModified: st.mtime };
  }

  async read(
    rel: string,
    key: string,
    range: { start: number; end: number | undefined },
  ): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.abs(rel), 'r');
    } catch (err) {
      if (isMissing(err)) throw notExistError(key, err);
      throw backendError(err, `opening ${JSON.stringify(key)}`);
    }
    try {
      // The opened file itself, so a symlink swapped in after a check cannot fool it.
      await this.assertInside(await realPathOfOpen(fh, this.abs(rel)), key);
      const st = await fh.stat();
      if (!st.isFile()) throw notExistError(key);
      if (range.end === range.start || range.start >= st.size) {
        await fh.close();
        return emptyReadable();
      }
      const length = Math.min(range.end ?? st.size, st.size) - range.start;
      if (length <= WHOLE_READ_LIMIT) {
        // One read into one buffer: a stream of small chunks costs more than the I/O here.
        const buffer = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buffer, done, length - done, range.start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        await fh.close();
        return bufferReadable(buffer.subarray(0, done));
      }
      // createReadStream's `end` is inclusive.
      return fh.createReadStream({
        // Bigger reads than the 64 KiB default: fewer syscalls and chunks per object.
        highWaterMark: READ_CHUNK,
        start: range.start,
        end: range.end === undefined ? undefined : range.end - 1,
        autoClose: true,
      });
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async write(
    rel: string,
    key: string,
    data: DriverWriteData,
    options: { persist: boolean; signal: AbortSignal | undefined },
  ): Promise<void> {
    const { persist, signal } = options;
    await this.init();
    const what = `write ${JSON.stringify(key)}`;
    const tmp = join(this.tmpDir, randomUUID());
    let renamed = false;
    try {
      const fh = await open(tmp, 'wx', FILE_MODE);
      try {
        if (data.kind === 'buffer') {
          await writeFully(fh, data.buffer);
        } else {
          for await (const chunk of data.stream as AsyncIterable<Buffer>) {
            throwIfAborted(signal, what);
            await writeFully(fh, chunk);
          }
        }
        throwIfAborted(signal, what);
        if (persist) await fh.sync();
      } finally {
        await fh.close();
      }
      const created = await this.moveIntoPlace(tmp, rel, key);
      renamed = true;
      if (persist) await this.syncParents(rel, created);
    } catch (err) {
      if (!renamed) await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * mkdir -p of the parent + rename; retried when a concurrent delete pruned the parent.
   * Returns the topmost directory it created, if any.
   */
  private async moveIntoPlace(tmp: string, rel: string, key: string): Promise<string | undefined> {
    const target = this.abs(rel);
    let created: string | undefined;
    for (let attempt = 0; ; attempt++) {
      // mkdir -p follows symlinked directories: check the deepest existing one first, so
      // nothing is created (or renamed) outside the root. The final component may be a
      // symlink: rename replaces the link, not its target.
      await this.assertExistingAncestorInside(dirname(target), key);
      try {
        created = (await mkdir(dirname(target), { recursive: true, mode: DIR_MODE })) ?? created;
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'ENOTDIR' || code === 'EEXIST') throw conflictError(key, err);
        throw backendError(err, `creating the directory of ${JSON.stringify(key)}`);
      }
      try {
        await rename(tmp, target);
        return created;
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw conflictError(key, err);
        }
        if (code === 'ENOTDIR') throw conflictError(key, err);
        if (code === 'ENOENT' && attempt < 10) continue;
        throw backendError(err, `renaming into place ${JSON.stringify(key)}`);
      }
    }
  }

  /**
   * fsync the object's directory, so the rename is durable, and the directories this write
   * created up to the one holding the topmost of them, so they are durable too.
   */
  private async syncParents(rel: string, created: string | undefined): Promise<void> {
    let dir = dirname(this.abs(rel));
    const stop = created === undefined ? dir : dirname(created);
    for (;;) {
      const fh = await open(dir, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (dir === stop || dir === this.dataDir || !dir.startsWith(this.dataDir + sep)) break;
      dir = dirname(dir);
    }
  }

  async delete(rel: string, key: string): Promise<void> {
    const target = this.abs(rel);
    // unlink does not follow the last component, but does follow symlinked directories.
    await this.resolveInside(dirname(target), key);
    try {
      await unlink(target);
    } catch (err) {
      const code = errnoOf(err);
      if (isMissing(err) || code === 'EPERM') throw notExistError(key, err);
      throw backendError(err, `deleting ${JSON.stringify(key)}`);
    }
    await this.prune(dirname(target));
  }

  /** Removes now-empty parent directories up to (not including) data/. Best effort. */
  private async prune(dir: string): Promise<void> {
    while (dir.startsWith(this.dataDir + sep)) {
      try {
        await rmdir(dir);
      } catch (err) {
        const code = errnoOf(err);
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') {
          this.log.debug({ err, dir }, 'ost: pruning empty directory failed');
        }
        return;
      }
      dir = dirname(dir);
    }
  }
}

/**
 * The real path of an open file: its /proc link on Linux (no race with a swapped symlink),
 * else realpath of its path. The /proc read is synchronous on purpose: procfs answers from
 * memory, and a thread pool round trip would cost more than the call (reads of small
 * objects are hot).
 */
async function realPathOfOpen(fh: FileHandle, path: string): Promise<string> {
  try {
    return readlinkSync(`/proc/self/fd/${fh.fd}`);
  } catch {
    return realpath(path);
  }
}

function conflictError(key: string, cause: unknown): Error {
  return wrap(
    cause,
    `key ${JSON.stringify(key)} conflicts with another key: on posix an object cannot also be a directory (a vs a/b)`,
    { code: OstErrorCodes.KeyConflict },
  );
}

async function writeFully(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

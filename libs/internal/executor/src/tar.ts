import { createReadStream } from 'node:fs';
import {
  lstat,
  link,
  mkdir,
  readdir,
  readlink,
  realpath,
  rm,
  symlink,
  chmod,
  lchown,
} from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Pack } from 'tar-stream';

type EntryHeader = Parameters<Pack['entry']>[0];
import { newError, wrap } from '@agola-ts/errors';
import { ExecutorErrorCodes } from './codes.js';

/**
 * Normalizes a tar entry name to a clean relative POSIX path (`./a//b/` → `a/b`); `''` is
 * the root itself.
 * @throws `ERR_EXECUTOR_ARCHIVE_REJECTED` for an absolute name or one that leaves the root.
 */
export function entryPath(name: string): string {
  if (name.startsWith('/')) {
    throw newError(`archive entry ${JSON.stringify(name)} is absolute`, {
      code: ExecutorErrorCodes.ArchiveRejected,
    });
  }
  const norm = posix.normalize(name);
  if (norm === '..' || norm.startsWith('../')) {
    throw newError(`archive entry ${JSON.stringify(name)} leaves the destination`, {
      code: ExecutorErrorCodes.ArchiveRejected,
    });
  }
  // normalize leaves at most one trailing slash
  const clean = norm.endsWith('/') ? norm.slice(0, -1) : norm;
  return clean === '.' ? '' : clean;
}

/**
 * A tar stream of `path` on this host, named like the Docker archive endpoint does:
 * `<basename(path)>` then `<basename(path)>/...`. Symlinks are stored as links (never
 * followed); sockets and devices are skipped.
 * @throws `ERR_EXECUTOR_PATH_NOT_FOUND` when `path` does not exist.
 */
export async function packPath(path: string, signal?: AbortSignal): Promise<Readable> {
  try {
    await lstat(path);
  } catch (err) {
    throw wrap(err, `path ${JSON.stringify(path)} not found`, {
      code: ExecutorErrorCodes.PathNotFound,
    });
  }
  const p = pack();
  const add = (header: EntryHeader, body?: Readable): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!body) {
        p.entry(header, (err) => (err ? reject(err) : resolve()));
        return;
      }
      const entry = p.entry(header, (err) => (err ? reject(err) : resolve()));
      body.on('error', reject);
      body.pipe(entry as unknown as NodeJS.WritableStream);
    });
  const walk = async (abs: string, name: string): Promise<void> => {
    signal?.throwIfAborted();
    const st = await lstat(abs);
    const common = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      await add({ ...common, type: 'directory' });
      const children = (await readdir(abs)).sort();
      for (const child of children) await walk(join(abs, child), `${name}/${child}`);
    } else if (st.isSymbolicLink()) {
      await add({ ...common, type: 'symlink', linkname: await readlink(abs) });
    } else if (st.isFile()) {
      await add({ ...common, type: 'file', size: st.size }, createReadStream(abs));
    }
  };
  walk(path, basename(path)).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(wrap(err, `archiving ${JSON.stringify(path)}`)),
  );
  // tar-stream streams are streamx streams: expose a Node.js Readable.
  return Readable.from(p);
}

/** True when `child` is `parent` or inside it (both absolute, resolved). */
function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/**
 * Extracts a tar stream into `dir` on this host (created if missing). Every entry must stay
 * inside `dir`, also through symlinks already in the tree or created by the archive.
 * Existing files are replaced.
 * @throws `ERR_EXECUTOR_ARCHIVE_REJECTED` for an entry that would leave `dir`.
 */
export async function extractTo(
  dir: string,
  tar: Readable,
  signal?: AbortSignal,
  owner?: { uid: number; gid: number },
): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  const root = await realpath(dir);
  const own = async (path: string) => {
    if (owner) await lchown(path, owner.uid, owner.gid);
  };
  if (firstCreated && owner) {
    // The dirs created for the destination belong to the owner too.
    for (let p = root; p.length >= firstCreated.length; p = dirname(p)) await own(p);
  }
  const ex = extract();
  const safeParent = async (target: string) => {
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    const real = await realpath(parent);
    if (!inside(root, real)) {
      throw newError(
        `archive entry ${JSON.stringify(relative(root, target))} leaves the destination through a symlink`,
        {
          code: ExecutorErrorCodes.ArchiveRejected,
        },
      );
    }
  };
  ex.on('entry', (header, stream, next) => {
    // When the extraction fails, the current entry stream is destroyed with the error too.
    stream.on('error', () => undefined);
    const handle = async () => {
      signal?.throwIfAborted();
      const rel = entryPath(header.name);
      if (rel === '') {
        stream.resume();
        return;
      }
      const target = join(root, rel);
      await safeParent(target);
      const mode = header.mode !== undefined ? header.mode & 0o7777 : undefined;
      switch (header.type) {
        case 'directory': {
          const st = await lstat(target).catch(() => undefined);
          if (st && !st.isDirectory()) await rm(target, { recursive: true, force: true });
          await mkdir(target, { recursive: true });
          if (mode !== undefined) await chmod(target, mode);
          await own(target);
          stream.resume();
          return;
        }
        case 'file':
        case 'contiguous-file': {
          const st = await lstat(target).catch(() => undefined);
          if (st && !st.isFile()) await rm(target, { recursive: true, force: true });
          else if (st) await rm(target, { force: true }); // a hard link elsewhere stays intact
          await pipeline(stream, createWriteStream(target, { mode: mode ?? 0o644 }));
          if (mode !== undefined) await chmod(target, mode);
          await own(target);
          return;
        }
        case 'symlink': {
          await rm(target, { recursive: true, force: true });
          await symlink(header.linkname ?? '', target);
          await own(target);
          stream.resume();
          return;
        }
        case 'link': {
          const from = join(root, entryPath(header.linkname ?? ''));
          await safeParent(from);
          await rm(target, { recursive: true, force: true });
          await link(from, target);
          stream.resume();
          return;
        }
        default:
          stream.resume(); // devices, fifos, pax headers: nothing to write here
      }
    };
    handle().then(
      () => next(),
      (err: unknown) => {
        stream.resume();
        next(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      tar.destroy();
      ex.destroy();
      reject(wrap(err, `extracting an archive into ${JSON.stringify(dir)}`));
    };
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    tar.on('error', fail);
    ex.on('error', fail);
    ex.on('finish', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    tar.pipe(ex);
  });
}

/** Reads a whole stream into a Buffer, refusing more than `limit` bytes. */
export async function readAll(stream: Readable, limit = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) {
      stream.destroy();
      throw newError(`more than ${limit} bytes`, { code: ExecutorErrorCodes.StepFailed });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A readable over one buffer (for small archives built in memory). */
export function bufferStream(data: Buffer): Readable {
  return Readable.from([data]);
}

/**
 * Passes a tar stream on unchanged in content but checked: every entry name (and hard link
 * target) must stay inside the destination. The returned stream fails with
 * `ERR_EXECUTOR_ARCHIVE_REJECTED` at the first entry that would leave it.
 */
export function sanitizeTar(input: Readable): Readable {
  const ex = extract();
  const p = pack();
  ex.on('entry', (header, stream, next) => {
    stream.on('error', () => undefined); // the error is reported by the returned stream
    let name: string;
    try {
      name = entryPath(header.name);
      if (header.type === 'link') entryPath(header.linkname);
    } catch (err) {
      stream.resume();
      p.destroy(err as Error);
      ex.destroy(err as Error);
      return;
    }
    if (name === '') {
      stream.resume();
      next();
      return;
    }
    const entry = p.entry({ ...header, name }, (err) => next(err ?? undefined));
    stream.pipe(entry);
  });
  ex.on('finish', () => p.finalize());
  ex.on('error', (err: Error) => p.destroy(err));
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex as unknown as NodeJS.WritableStream);
  return Readable.from(p);
}

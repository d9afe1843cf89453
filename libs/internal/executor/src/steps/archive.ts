import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import picomatch from 'picomatch';
import { extract, pack, type Header, type Pack } from 'tar-stream';
import { is, newError, wrap } from '@agola-ts/errors';
import { ExecutorErrorCodes } from '../codes.js';
import { entryPath } from '../tar.js';
import { expandDir, logLine, podCommand, workingDirOf, type StepContext } from './context.js';

/** One `contents` entry of `save_to_workspace` / `save_cache`. */
export interface ArchiveContent {
  /** Dir whose files are archived (relative to the working dir; `~` expanded). */
  sourceDir: string;
  /** Where they go in the archive (and so, relative to the restore's dest dir). @default '' */
  destDir?: string;
  /** Globs (doublestar-style: `*` stays in a dir, `**` crosses dirs) relative to sourceDir. */
  paths: string[];
}

/**
 * Calls `onEntry` for every entry of a tar stream, one at a time; `onEntry` must consume or
 * resume the entry's body.
 */
async function eachEntry(
  tar: Readable,
  onEntry: (header: Header, body: Readable) => Promise<void>,
): Promise<void> {
  const ex = extract();
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      tar.destroy();
      ex.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    ex.on('entry', (header, stream, next) => {
      stream.on('error', () => undefined); // reported through `fail`
      onEntry(header, stream as unknown as Readable).then(
        () => next(),
        (err: unknown) => {
          stream.resume();
          next(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    ex.on('error', fail);
    tar.on('error', fail);
    ex.on('finish', resolve);
    tar.pipe(ex as unknown as NodeJS.WritableStream);
  });
}

function addEntry(p: Pack, header: Header, body?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
    // Only files have a body; the sink of any other entry finishes by itself.
    if (body && (header.type === 'file' || header.type === 'contiguous-file')) {
      body.pipe(sink as unknown as NodeJS.WritableStream);
    } else body?.resume();
  });
}

/**
 * A tar of the matching files of each content, named `<destDir>/<path relative to
 * sourceDir>`, as Agola's `toolbox archive` makes it: entries (directories too) are kept
 * when a glob matches their relative path; two entries with one name fail.
 */
export function archiveContents(ctx: StepContext, contents: ArchiveContent[]): Readable {
  const p = pack();
  const run = async () => {
    const workingDir = await workingDirOf(ctx);
    const seen = new Set<string>();
    for (const content of contents) {
      const source = await expandDir(ctx, content.sourceDir, workingDir);
      const destDir = posix.normalize(content.destDir ?? '.').replace(/^\/+/, '');
      const isMatch = picomatch(content.paths.length ? content.paths : ['**'], { dot: true });
      let tar: Readable;
      try {
        tar = await ctx.pod.copyOut(source, { signal: ctx.signal });
      } catch (err) {
        logLine(ctx, `source dir ${JSON.stringify(content.sourceDir)} not found`);
        throw wrap(err, `archiving ${JSON.stringify(source)}`, {
          code: ExecutorErrorCodes.StepFailed,
        });
      }
      const base = posix.basename(source);
      const relOf = (name: string) => {
        const n = entryPath(name);
        if (n === base || base === '') return base === '' ? n : '';
        return n.startsWith(`${base}/`) ? n.slice(base.length + 1) : undefined;
      };
      let first = true;
      await eachEntry(tar, async (header, body) => {
        const rel = relOf(header.name);
        if (first && header.type !== 'directory' && rel === '') {
          body.resume();
          throw newError(`source ${JSON.stringify(content.sourceDir)} is not a directory`, {
            code: ExecutorErrorCodes.StepFailed,
          });
        }
        first = false;
        if (rel === undefined || rel === '' || !isMatch(rel)) {
          body.resume();
          return;
        }
        const name = posix.join(destDir, rel);
        if (seen.has(name)) {
          body.resume();
          throw newError(`archive destination path ${JSON.stringify(name)} already exists`, {
            code: ExecutorErrorCodes.ArchiveRejected,
          });
        }
        seen.add(name);
        const out: Header = { ...header, name };
        if (header.type === 'link') {
          const target = relOf(header.linkname);
          if (target === undefined || !seen.has(posix.join(destDir, target))) {
            // A hard link to a file that is not in the archive: store it as a copy is not
            // possible from here, so it is left out (and said so).
            logLine(ctx, `skipping hard link ${rel}: its target is not archived`);
            body.resume();
            return;
          }
          out.linkname = posix.join(destDir, target);
        }
        await addEntry(p, out, body);
      });
    }
  };
  run().then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return Readable.from(p);
}

/**
 * Extracts an archive into `destDir` of the pod without overwriting: a file, link or other
 * non-directory that already exists fails the step (as Agola's `toolbox unarchive` without
 * `--overwrite`); directories that exist are merged into. The archive is spooled to a temp
 * file on the executor, so it can be checked before anything is written.
 */
export async function unarchive(ctx: StepContext, tar: Readable, destDir: string): Promise<void> {
  const workingDir = await workingDirOf(ctx);
  const dest = await expandDir(ctx, destDir, workingDir);
  const tmp = await mkdtemp(join(tmpdir(), 'agola-unarchive-'));
  const file = join(tmp, 'archive.tar');
  try {
    await pipeline(tar, createWriteStream(file), { signal: ctx.signal });
    const checks: string[] = [];
    await eachEntry(createReadStream(file), async (header, body) => {
      body.resume();
      const rel = entryPath(header.name);
      if (rel === '') return;
      if (rel.includes('\n')) {
        throw newError(`archive entry ${JSON.stringify(rel)} has a newline in its name`, {
          code: ExecutorErrorCodes.ArchiveRejected,
        });
      }
      checks.push(`${header.type === 'directory' ? 'D' : 'F'} ${posix.join(dest, rel)}`);
    });
    if (checks.length > 0) {
      // One exec checks every path: builtins only, so any image with a shell can run it.
      const existing = await podCommand(
        ctx,
        [
          'sh',
          '-c',
          'while IFS= read -r l; do p=${l#? }; case $l in ' +
            'D*) if [ -e "$p" ] && [ ! -d "$p" ]; then printf "%s\\n" "$p"; fi;; ' +
            '*) if [ -e "$p" ] || [ -L "$p" ]; then if [ ! -d "$p" ] || [ -L "$p" ]; then printf "%s\\n" "$p"; fi; fi;; ' +
            'esac; done',
        ],
        `${checks.join('\n')}\n`,
      );
      const clash = existing.split('\n').filter(Boolean);
      if (clash.length > 0) {
        logLine(ctx, `file already exists: ${clash[0] ?? ''}`);
        throw newError(
          `restoring into ${JSON.stringify(dest)}: ${clash.length} file(s) already exist, e.g. ${JSON.stringify(clash[0])}`,
          { code: ExecutorErrorCodes.ArchiveRejected },
        );
      }
    }
    await ctx.pod.copyIn(dest, createReadStream(file), {
      signal: ctx.signal,
      ...(ctx.user ? { user: ctx.user } : {}),
    });
  } catch (err) {
    if (is(err, ExecutorErrorCodes.ArchiveRejected) || is(err, ExecutorErrorCodes.StepFailed))
      throw err;
    throw wrap(err, `restoring into ${JSON.stringify(dest)}`, {
      code: ExecutorErrorCodes.StepFailed,
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

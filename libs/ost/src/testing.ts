/**
 * The conformance suite of the {@link ObjectStorage} contract, for vitest. Every driver of this
 * package runs it; run it against your own implementation or configuration too.
 *
 * @example
 * ```ts
 * import { describeObjectStorage } from '@agola-ts/ost/testing';
 * import { createMemoryStorage } from '@agola-ts/ost';
 *
 * describeObjectStorage('memory', () => createMemoryStorage());
 * ```
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { is } from '@agola-ts/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OstErrorCodes } from './codes.js';
import { isNotExist } from './errors.js';
import { compareKeys } from './keys.js';
import { readAll } from './streams.js';
import type { ListOptions, ObjectInfo, ObjectStorage } from './types.js';

/** A storage under test and how to clean it up after the test. */
export interface ObjectStorageFixture {
  storage: ObjectStorage;
  cleanup?: () => Promise<void> | void;
}

/**
 * Creates a new, empty storage for one test (each test calls it once). Return the storage or
 * a {@link ObjectStorageFixture} with a cleanup.
 */
export type ObjectStorageFactory = () =>
  ObjectStorage | ObjectStorageFixture | Promise<ObjectStorage | ObjectStorageFixture>;

/** Options of {@link describeObjectStorage}. */
export interface DescribeObjectStorageOptions {
  /** Deleting a missing key succeeds instead of failing with not-exist (s3). @default false */
  idempotentDelete?: boolean;
  /** Size of the large-object tests, in bytes. @default 24 MiB */
  largeObjectSize?: number;
  /**
   * The backend does not list in key order, so listings are compared as sets. Only for test
   * servers with that gap (s3rver lists in its file system's order); real S3 lists in order.
   * @default false
   */
  unorderedListing?: boolean;
  /**
   * The backend itself overwrites objects in place, so a concurrent reader can see a part of
   * the new object whatever the driver does (s3rver truncates, then writes); the concurrent
   * readers test is skipped. @default false
   */
  nonAtomicServer?: boolean;
}

const MiB = 1024 * 1024;

function isFixture(value: ObjectStorage | ObjectStorageFixture): value is ObjectStorageFixture {
  return 'storage' in value && !('stat' in value);
}

async function text(storage: ObjectStorage, key: string, range?: { start?: number; end?: number }) {
  return (await readAll(await storage.read(key, range))).toString('utf8');
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

async function listKeys(
  storage: ObjectStorage,
  prefix: string,
  options: ListOptions = {},
): Promise<string[]> {
  return (await collect(storage.list(prefix, options))).map((info) => info.key);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (Object.values(OstErrorCodes) as string[]).find((code) => is(err, code)) ?? 'other';
  }
  return undefined;
}

/** A deterministic, non-repeating byte stream of `size` bytes (unknown length to a reader). */
function generated(
  size: number,
  options: { failAt?: number; chunk?: number; onChunk?: (sent: number) => void } = {},
) {
  const chunkSize = options.chunk ?? 256 * 1024;
  const hash = createHash('sha256');
  const seed = Buffer.alloc(chunkSize);
  for (let i = 0; i < chunkSize; i++) seed[i] = (i * 131 + 7) & 0xff;
  let sent = 0;
  let n = 0;
  const stream = new Readable({
    read() {
      if (options.failAt !== undefined && sent >= options.failAt) {
        this.destroy(new Error('source failed on purpose'));
        return;
      }
      if (sent >= size) {
        this.push(null);
        return;
      }
      const len = Math.min(chunkSize, size - sent);
      const chunk = Buffer.from(seed.subarray(0, len));
      chunk.writeUInt32BE(n++ >>> 0, 0);
      hash.update(chunk);
      sent += len;
      options.onChunk?.(sent);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hex: hash.digest('hex'), size };
}

const BAD_KEYS = ['', '/a', 'a/', 'a//b', '.', '..', '../a', 'a/..', 'a/../b', 'a/./b', 'a\0b'];
const BAD_PREFIXES = ['/', '/a', 'a//', '../', 'a/../', 'a/./', 'a\0'];

/**
 * Registers the conformance tests of the object storage contract (a vitest `describe` block):
 * round trips, ordering, `startAfter`, recursive and flat listing, unicode keys, empty and
 * large objects, ranges, overwrite, not-exist errors, atomicity of failed, aborted and
 * concurrent writes, and key validation.
 *
 * @param name - the describe block's name
 * @param factory - creates a new, empty storage for each test
 */
export function describeObjectStorage(
  name: string,
  factory: ObjectStorageFactory,
  options: DescribeObjectStorageOptions = {},
): void {
  const large = options.largeObjectSize ?? 24 * MiB;

  /** Keys in listing order, or sorted when the backend does not keep the order. */
  async function keysOf(storage: ObjectStorage, prefix: string, opts: ListOptions = {}) {
    const keys = await listKeys(storage, prefix, opts);
    return options.unorderedListing ? keys.sort(compareKeys) : keys;
  }

  async function fresh(): Promise<ObjectStorage> {
    const made = await factory();
    if (isFixture(made)) {
      if (made.cleanup) onTestFinished(async () => made.cleanup?.());
      return made.storage;
    }
    return made;
  }

  describe(`object storage conformance: ${name}`, () => {
    it('writes strings, bytes and streams of known and unknown length, and reads them back', async () => {
      const s = await fresh();
      await s.write('str', 'héllo');
      await s.write('bytes', new Uint8Array([1, 2, 3]));
      await s.write('stream-known', Readable.from([Buffer.from('ab'), Buffer.from('cd')]), {
        size: 4,
      });
      await s.write('stream-unknown', Readable.from([Buffer.from('xy'), Buffer.from('z')]));
      async function* gen() {
        yield new TextEncoder().encode('it');
        yield new TextEncoder().encode('er');
      }
      await s.write('iterable', gen(), { persist: true });
      expect(await text(s, 'str')).toBe('héllo');
      expect([...(await readAll(await s.read('bytes')))]).toEqual([1, 2, 3]);
      expect(await text(s, 'stream-known')).toBe('abcd');
      expect(await text(s, 'stream-unknown')).toBe('xyz');
      expect(await text(s, 'iterable')).toBe('iter');
    });

    it('stat reports the key, the size and the modification time', async () => {
      const s = await fresh();
      const before = Date.now();
      await s.write('dir/obj', 'héllo'); // 6 bytes in UTF-8
      const info = await s.stat('dir/obj');
      expect(info.key).toBe('dir/obj');
      expect(info.size).toBe(6);
      expect(info.lastModified).toBeInstanceOf(Date);
      // Servers may round to the second.
      expect(info.lastModified.getTime()).toBeGreaterThanOrEqual(before - 2000);
      expect(info.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 2000);
      const [listed] = await collect(s.list('dir/'));
      expect(listed?.key).toBe('dir/obj');
      expect(listed?.size).toBe(6);
    });

    it('stores empty objects', async () => {
      const s = await fresh();
      await s.write('empty', '');
      await s.write('empty-stream', Readable.from([]));
      await s.write('empty-sized', Readable.from([]), { size: 0 });
      for (const key of ['empty', 'empty-stream', 'empty-sized']) {
        expect((await s.stat(key)).size).toBe(0);
        expect((await readAll(await s.read(key))).length).toBe(0);
      }
      expect(await keysOf(s, '')).toEqual(['empty', 'empty-sized', 'empty-stream']);
    });

    it('an overwrite replaces the whole object', async () => {
      const s = await fresh();
      await s.write('k', 'a long first version');
      await s.write('k', 'short');
      expect(await text(s, 'k')).toBe('short');
      expect((await s.stat('k')).size).toBe(5);
      await s.write('k', Readable.from([Buffer.from('streamed again')]));
      expect(await text(s, 'k')).toBe('streamed again');
      expect(await keysOf(s, '', { recursive: true })).toEqual(['k']);
    });

    it('reads byte ranges (end exclusive, cut at the end of the object)', async () => {
      const s = await fresh();
      await s.write('r', '0123456789');
      expect(await text(s, 'r', { start: 0, end: 10 })).toBe('0123456789');
      expect(await text(s, 'r', { start: 3 })).toBe('3456789');
      expect(await text(s, 'r', { end: 4 })).toBe('0123');
      expect(await text(s, 'r', { start: 2, end: 5 })).toBe('234');
      expect(await text(s, 'r', { start: 9, end: 10 })).toBe('9');
      expect(await text(s, 'r', { start: 4, end: 4 })).toBe('');
      expect(await text(s, 'r', { start: 7, end: 100 })).toBe('789');
      expect(await text(s, 'r', { start: 10 })).toBe('');
      expect(await text(s, 'r', { start: 50 })).toBe('');
      await s.write('e', '');
      expect(await text(s, 'e', { start: 0, end: 5 })).toBe('');
    });

    it('rejects invalid ranges', async () => {
      const s = await fresh();
      await s.write('r', '0123456789');
      expect(await codeOf(s.read('r', { start: 5, end: 2 }))).toBe(OstErrorCodes.InvalidArgument);
      expect(await codeOf(s.read('r', { start: -1 }))).toBe(OstErrorCodes.InvalidArgument);
      expect(await codeOf(s.read('r', { start: 1.5 }))).toBe(OstErrorCodes.InvalidArgument);
      expect(await codeOf(s.read('r', { end: -3 }))).toBe(OstErrorCodes.InvalidArgument);
    });

    it('reports not-exist for stat, read (with and without range) and delete', async () => {
      const s = await fresh();
      await s.write('present/x', '1');
      for (const key of ['missing', 'present/missing', 'present', 'missing/deeper/key']) {
        const errStat = await s.stat(key).catch((e: unknown) => e);
        expect(isNotExist(errStat), `stat ${key}`).toBe(true);
        expect(await codeOf(s.read(key)), `read ${key}`).toBe(OstErrorCodes.NotExist);
        expect(await codeOf(s.read(key, { start: 0, end: 0 }))).toBe(OstErrorCodes.NotExist);
        expect(await codeOf(s.read(key, { start: 1, end: 5 }))).toBe(OstErrorCodes.NotExist);
        if (options.idempotentDelete) {
          await s.delete(key);
        } else {
          expect(await codeOf(s.delete(key)), `delete ${key}`).toBe(OstErrorCodes.NotExist);
        }
      }
      expect(await keysOf(s, '', { recursive: true })).toEqual(['present/x']);
    });

    it('deletes objects; a deleted key can be written again', async () => {
      const s = await fresh();
      await s.write('a/b/c', '1');
      await s.write('a/d', '2');
      await s.delete('a/b/c');
      expect(isNotExist(await s.stat('a/b/c').catch((e: unknown) => e))).toBe(true);
      expect(await keysOf(s, '', { recursive: true })).toEqual(['a/d']);
      await s.write('a/b/c', '3');
      expect(await text(s, 'a/b/c')).toBe('3');
      await s.delete('a/b/c');
      await s.delete('a/d');
      expect(await keysOf(s, '', { recursive: true })).toEqual([]);
      // Writing after everything was deleted (and directories pruned) works.
      await s.write('a/b/c', '4');
      expect(await text(s, 'a/b/c')).toBe('4');
    });

    const TREE = [
      'dir/x',
      'dir/sub/y',
      'dir/sub/z/w',
      'dir-x',
      'dir.x',
      'dir0',
      'top',
      'zz/last',
      'dir/sub2',
      'A',
      'dir/Y',
    ];

    async function tree(): Promise<ObjectStorage> {
      const s = await fresh();
      // Written out of order on purpose.
      for (const key of [...TREE].reverse()) await s.write(key, key);
      return s;
    }

    it('lists recursively in key (code point) order', async () => {
      const s = await tree();
      const all = [...TREE].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(await keysOf(s, '', { recursive: true })).toEqual(all);
      expect(await keysOf(s, 'dir/', { recursive: true })).toEqual([
        'dir/Y',
        'dir/sub/y',
        'dir/sub/z/w',
        'dir/sub2',
        'dir/x',
      ]);
      expect(await keysOf(s, 'dir/sub', { recursive: true })).toEqual([
        'dir/sub/y',
        'dir/sub/z/w',
        'dir/sub2',
      ]);
      const infos: ObjectInfo[] = await collect(s.list('zz/', { recursive: true }));
      expect(infos.map((i) => [i.key, i.size])).toEqual([['zz/last', 7]]);
    });

    it('lists only the objects directly at the level when not recursive', async () => {
      const s = await tree();
      expect(await keysOf(s, '')).toEqual(['A', 'dir-x', 'dir.x', 'dir0', 'top']);
      expect(await keysOf(s, 'dir/')).toEqual(['dir/Y', 'dir/sub2', 'dir/x']);
      expect(await keysOf(s, 'dir')).toEqual(['dir-x', 'dir.x', 'dir0']);
      expect(await keysOf(s, 'dir/sub')).toEqual(['dir/sub2']);
      expect(await keysOf(s, 'dir/sub/')).toEqual(['dir/sub/y']);
      expect(await keysOf(s, 'nothing/')).toEqual([]);
      expect(await keysOf(s, 'nothing', { recursive: true })).toEqual([]);
      expect(await keysOf(s, 'top')).toEqual(['top']);
    });

    it('lists keys strictly after startAfter', async () => {
      const s = await tree();
      expect(await keysOf(s, 'dir/', { recursive: true, startAfter: 'dir/sub/y' })).toEqual([
        'dir/sub/z/w',
        'dir/sub2',
        'dir/x',
      ]);
      expect(await keysOf(s, 'dir/', { recursive: true, startAfter: 'dir/sub/' })).toEqual([
        'dir/sub/y',
        'dir/sub/z/w',
        'dir/sub2',
        'dir/x',
      ]);
      expect(await keysOf(s, 'dir/', { recursive: true, startAfter: 'dir/t' })).toEqual(['dir/x']);
      expect(await keysOf(s, 'dir/', { recursive: true, startAfter: 'dir/x' })).toEqual([]);
      expect(await keysOf(s, 'dir/', { recursive: true, startAfter: 'a' })).toHaveLength(5);
      expect(await keysOf(s, '', { startAfter: 'dir.x' })).toEqual(['dir0', 'top']);
      expect(await keysOf(s, '', { recursive: true, startAfter: 'dir0' })).toEqual([
        'top',
        'zz/last',
      ]);
      expect(await keysOf(s, 'dir/', { startAfter: 'dir/Y' })).toEqual(['dir/sub2', 'dir/x']);
    });

    it('stops listing when the loop is left early', async () => {
      const s = await fresh();
      for (let i = 0; i < 30; i++) await s.write(`many/${String(i).padStart(3, '0')}`, 'x');
      const seen: string[] = [];
      for await (const info of s.list('many/')) {
        seen.push(info.key);
        if (seen.length === 3) break;
      }
      if (options.unorderedListing) expect(new Set(seen).size).toBe(3);
      else expect(seen).toEqual(['many/000', 'many/001', 'many/002']);
      const it = s.list('many/')[Symbol.asyncIterator]();
      expect((await it.next()).value?.key).toMatch(/^many\/0\d\d$/);
      expect(await it.return?.()).toEqual({ done: true, value: undefined });
      expect((await it.next()).done).toBe(true);
      // The storage is still usable.
      expect(await keysOf(s, 'many/')).toHaveLength(30);
    });

    it('handles keys with unicode, spaces and percent signs', async () => {
      const s = await fresh();
      const keys = [
        'spaces/a b c',
        'percent/100%',
        'percent/%2F',
        'percent/%25 and %',
        'unicode/日本語/キー',
        'unicode/naïve café',
        'unicode/😀 emoji',
        'unicode/\uff5e tilde',
        'long/abcdefghijklmnopqrstuvwx',
        'long/abcdefgh',
        'long/abcdefgh..',
      ];
      for (const key of keys) await s.write(key, `value of ${key}`);
      for (const key of keys) {
        expect(await text(s, key)).toBe(`value of ${key}`);
        expect((await s.stat(key)).key).toBe(key);
      }
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(await keysOf(s, '', { recursive: true })).toEqual(sorted);
      expect(await keysOf(s, 'percent/')).toEqual([
        'percent/%25 and %',
        'percent/%2F',
        'percent/100%',
      ]);
      expect(await keysOf(s, 'unicode/')).toEqual([
        'unicode/naïve café',
        'unicode/\uff5e tilde',
        'unicode/😀 emoji',
      ]);
      expect(await keysOf(s, 'percent/%2', { recursive: true })).toEqual([
        'percent/%25 and %',
        'percent/%2F',
      ]);
      for (const key of keys) await s.delete(key);
      expect(await keysOf(s, '', { recursive: true })).toEqual([]);
    });

    it(`streams large objects (${large} bytes) of unknown and known length`, async () => {
      const s = await fresh();
      const unknown = generated(large);
      await s.write('large/unknown', unknown.stream);
      const known = generated(large + 12345);
      await s.write('large/known', known.stream, { size: large + 12345 });
      const readUnknown = await sha256(await s.read('large/unknown'));
      expect(readUnknown).toEqual({ hex: unknown.digest(), size: large });
      const readKnown = await sha256(await s.read('large/known'));
      expect(readKnown).toEqual({ hex: known.digest(), size: large + 12345 });
      expect((await s.stat('large/unknown')).size).toBe(large);
      // A range across the generator's chunk boundary.
      const start = 256 * 1024 - 10;
      const part = await readAll(await s.read('large/known', { start, end: start + 20 }));
      expect(part.length).toBe(20);
      expect(part.readUInt32BE(10)).toBe(1);
    });

    it('a write whose source fails leaves no object and keeps the old one', async () => {
      const s = await fresh();
      const failing = [
        () => generated(1000, { failAt: 500, chunk: 100 }).stream,
        () => generated(large, { failAt: Math.floor(large / 2) }).stream,
      ];
      for (const [i, make] of failing.entries()) {
        expect(await codeOf(s.write(`fail/new${i}`, make()))).toBeDefined();
        expect(isNotExist(await s.stat(`fail/new${i}`).catch((e: unknown) => e))).toBe(true);
        await s.write(`fail/old${i}`, 'old content');
        expect(await codeOf(s.write(`fail/old${i}`, make()))).toBeDefined();
        expect(await text(s, `fail/old${i}`)).toBe('old content');
      }
      expect(await keysOf(s, '', { recursive: true })).toEqual(['fail/old0', 'fail/old1']);
    });

    it('a write aborted through its signal leaves no object', async () => {
      const s = await fresh();
      await s.write('ab/old', 'old content');
      for (const key of ['ab/new', 'ab/old']) {
        const controller = new AbortController();
        const src = generated(large, {
          onChunk: (sent) => {
            if (sent > large / 3) controller.abort();
          },
        });
        const code = await codeOf(s.write(key, src.stream, { signal: controller.signal }));
        expect(code).toBe(OstErrorCodes.Aborted);
      }
      expect(await text(s, 'ab/old')).toBe('old content');
      expect(await keysOf(s, '', { recursive: true })).toEqual(['ab/old']);
    });

    it('a write whose data does not match size fails with nothing written', async () => {
      const s = await fresh();
      await s.write('sz/old', 'old');
      const cases: [string, () => Parameters<ObjectStorage['write']>[1], number][] = [
        ['sz/short', () => Readable.from([Buffer.from('abc')]), 10],
        ['sz/long', () => Readable.from([Buffer.from('abcdef')]), 3],
        ['sz/buffer', () => Buffer.from('abc'), 4],
        ['sz/old', () => Readable.from([Buffer.from('abc')]), 2],
      ];
      for (const [key, data, size] of cases) {
        expect(await codeOf(s.write(key, data(), { size })), key).toBe(OstErrorCodes.SizeMismatch);
      }
      expect(await keysOf(s, 'sz/')).toEqual(['sz/old']);
      expect(await text(s, 'sz/old')).toBe('old');
    });

    it.skipIf(options.nonAtomicServer)(
      'concurrent readers see the old or the new object, never a part',
      async () => {
        const s = await fresh();
        const size = 768 * 1024;
        const version = (c: string) => Buffer.alloc(size, c);
        await s.write('cc/obj', version('a'));
        let writing = true;
        const writer = (async () => {
          try {
            for (const c of ['b', 'c', 'd', 'e']) {
              const chunks = Array.from({ length: 12 }, () => Buffer.alloc(size / 12, c));
              async function* slow() {
                for (const chunk of chunks) {
                  await new Promise((r) => setTimeout(r, 2));
                  yield chunk;
                }
              }
              await s.write('cc/obj', slow());
            }
          } finally {
            writing = false;
          }
        })();
        const seen = new Set<string>();
        const reader = async () => {
          while (writing) {
            // Let timers run: an in-memory storage answers without ever leaving the microtask queue.
            await new Promise((r) => setImmediate(r));
            const got = await readAll(await s.read('cc/obj'));
            expect(got.length).toBe(size);
            const first = String.fromCharCode(got[0] ?? 0);
            expect(got.equals(version(first)), 'a torn read').toBe(true);
            seen.add(first);
          }
        };
        await Promise.all([writer, reader(), reader(), reader()]);
        expect(await text(s, 'cc/obj', { start: 0, end: 1 })).toBe('e');
        expect(seen.size).toBeGreaterThanOrEqual(1);
      },
    );

    it('rejects bad keys and prefixes and creates nothing', async () => {
      const s = await fresh();
      for (const key of BAD_KEYS) {
        const k = JSON.stringify(key);
        expect(await codeOf(s.stat(key)), `stat ${k}`).toBe(OstErrorCodes.InvalidKey);
        expect(await codeOf(s.read(key)), `read ${k}`).toBe(OstErrorCodes.InvalidKey);
        expect(await codeOf(s.write(key, 'x')), `write ${k}`).toBe(OstErrorCodes.InvalidKey);
        const stream = Readable.from([Buffer.from('x')]);
        expect(await codeOf(s.write(key, stream))).toBe(OstErrorCodes.InvalidKey);
        expect(await codeOf(s.delete(key)), `delete ${k}`).toBe(OstErrorCodes.InvalidKey);
      }
      for (const prefix of BAD_PREFIXES) {
        expect(await codeOf(keysOf(s, prefix)), `list ${JSON.stringify(prefix)}`).toBe(
          OstErrorCodes.InvalidKey,
        );
      }
      expect(await keysOf(s, '', { recursive: true })).toEqual([]);
      // Names that only look like traversal are plain keys.
      for (const key of ['..a', 'a..', '.hidden', 'a/.b', '...']) await s.write(key, key);
      expect(await keysOf(s, '', { recursive: true })).toEqual([
        '...',
        '..a',
        '.hidden',
        'a..',
        'a/.b',
      ]);
    });

    it('rejects every call with an already aborted signal', async () => {
      const s = await fresh();
      await s.write('k', 'v');
      const signal = AbortSignal.abort();
      expect(await codeOf(s.stat('k', { signal }))).toBe(OstErrorCodes.Aborted);
      expect(await codeOf(s.read('k', { signal }))).toBe(OstErrorCodes.Aborted);
      expect(await codeOf(s.write('k', 'new', { signal }))).toBe(OstErrorCodes.Aborted);
      expect(await codeOf(s.delete('k', { signal }))).toBe(OstErrorCodes.Aborted);
      expect(await codeOf(keysOf(s, '', { signal }))).toBe(OstErrorCodes.Aborted);
      expect(await text(s, 'k')).toBe('v');
    });
  });
}

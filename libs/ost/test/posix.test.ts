import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { is } from '@agola-ts/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createObjectStorage,
  createPosixFlatStorage,
  createPosixStorage,
  isNotExist,
  OstErrorCodes,
  withBasePath,
  type ObjectStorage,
} from '../src/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ost-posix-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function keys(s: ObjectStorage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const info of s.list(prefix, { recursive: true })) out.push(info.key);
  return out;
}

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return Object.values(OstErrorCodes).find((c) => is(err, c)) ?? String(err);
  }
}

describe('posix layout', () => {
  it('stores keys as a real tree under <root>/data, temp files under <root>/tmp', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('wals/data/0001', 'wal', { persist: true });
    expect(await readFile(join(root, 'data', 'wals', 'data', '0001'), 'utf8')).toBe('wal');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('keeps the base path as a directory and nothing escapes it', async () => {
    const s = createPosixStorage({ path: root, basePath: 'configdata' });
    await s.write('x/y', '1');
    expect(await readFile(join(root, 'data', 'configdata', 'x', 'y'), 'utf8')).toBe('1');
    expect(await errorCode(s.write('../outside', '1'))).toBe(OstErrorCodes.InvalidKey);
    expect(await errorCode(s.read('x/../../etc/passwd'))).toBe(OstErrorCodes.InvalidKey);
    const all = createPosixStorage({ path: root });
    expect(await keys(all)).toEqual(['configdata/x/y']);
    expect(await keys(s)).toEqual(['x/y']);
  });

  it('an object cannot also be a directory: a vs a/b is ERR_OST_KEY_CONFLICT', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('a', 'file');
    expect(await errorCode(s.write('a/b', 'x'))).toBe(OstErrorCodes.KeyConflict);
    expect(await errorCode(s.write('a/b/c', Readable.from([Buffer.from('x')])))).toBe(
      OstErrorCodes.KeyConflict,
    );
    await s.write('d/e', 'x');
    expect(await errorCode(s.write('d', 'file'))).toBe(OstErrorCodes.KeyConflict);
    // The directory is not an object, and the failed writes left nothing.
    expect(isNotExist(await s.stat('d').catch((e: unknown) => e))).toBe(true);
    expect(await errorCode(s.delete('d'))).toBe(OstErrorCodes.NotExist);
    expect(await errorCode(s.read('d'))).toBe(OstErrorCodes.NotExist);
    expect(await errorCode(s.stat('a/b'))).toBe(OstErrorCodes.NotExist);
    expect(await keys(s)).toEqual(['a', 'd/e']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('prunes directories left empty by a delete, up to data/', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('p/q/r/s', '1');
    await s.write('p/keep', '1');
    await s.delete('p/q/r/s');
    expect(await readdir(join(root, 'data', 'p'))).toEqual(['keep']);
    await s.delete('p/keep');
    expect(await readdir(join(root, 'data'))).toEqual([]);
    // Now `p` can be an object.
    await s.write('p', 'file');
    expect(await keys(s)).toEqual(['p']);
  });

  it('never lists stale temp files, and leaves none after failed writes', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('k', 'v');
    await writeFile(join(root, 'tmp', 'stale-from-a-crash'), 'partial');
    const failing = new Readable({
      read() {
        this.destroy(new Error('source failed'));
      },
    });
    expect(await errorCode(s.write('k2', failing))).toBe(OstErrorCodes.Backend);
    expect(await keys(s)).toEqual(['k']);
    expect(await readdir(join(root, 'tmp'))).toEqual(['stale-from-a-crash']);
  });

  it('ignores things in data/ that are not regular files or directories', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('x/a', '1');
    await mkdir(join(root, 'data', 'x', 'emptydir'));
    expect(await keys(s, 'x/')).toEqual(['x/a']);
  });

  it('lists 2000 keys in order across many directories', async () => {
    const s = createPosixStorage({ path: root });
    const expected: string[] = [];
    for (let d = 0; d < 20; d++) {
      for (let f = 0; f < 100; f++) expected.push(`d${String(d).padStart(2, '0')}/${f}`);
    }
    await Promise.all(expected.map((k) => s.write(k, 'x')));
    expected.sort();
    expect(await keys(s)).toEqual(expected);
    const after: string[] = [];
    for await (const info of s.list('', { recursive: true, startAfter: 'd17/5' }))
      after.push(info.key);
    expect(after).toEqual(expected.filter((k) => k > 'd17/5'));
  });

  it('a read cancelled midway fails the stream with ERR_OST_ABORTED', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('big', Buffer.alloc(4 * 1024 * 1024, 1));
    const controller = new AbortController();
    const stream = await s.read('big', { signal: controller.signal });
    let got = 0;
    const err = await (async () => {
      for await (const chunk of stream) {
        got += (chunk as Buffer).length;
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(is(err, OstErrorCodes.Aborted)).toBe(true);
    expect(got).toBeLessThan(4 * 1024 * 1024);
  });

  it('maps a backend error while streaming to an AgolaError', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('big', Buffer.alloc(4 * 1024 * 1024, 1));
    const stream = await s.read('big');
    stream.destroy(Object.assign(new Error('disk gone'), { code: 'EIO' }));
    const err = await (async () => {
      for await (const _ of stream) {
        /* drain */
      }
    })().catch((e: unknown) => e);
    expect(is(err, OstErrorCodes.Backend)).toBe(true);
    expect(is(err, 'EIO')).toBe(true);
  });

  it('sets the modification time of the file as lastModified', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('m', 'v');
    const st = await stat(join(root, 'data', 'm'));
    expect((await s.stat('m')).lastModified.getTime()).toBe(st.mtime.getTime());
  });
});

describe('posixflat layout', () => {
  it('lets a and a/b coexist, stored flat with escaping', async () => {
    const s = createPosixFlatStorage({ path: root });
    await s.write('a', '1');
    await s.write('a/b', '2');
    await s.write('abcdefgh', '3');
    await s.write('abcdefgh/i', '4');
    expect((await readdir(join(root, 'data'))).sort()).toEqual(
      ['a', 'a%2Fb', 'abcdefgh', 'abcdefgh.f'].sort(),
    );
    expect(await readFile(join(root, 'data', 'abcdefgh', '%2Fi'), 'utf8')).toBe('4');
    expect(await keys(s)).toEqual(['a', 'a/b', 'abcdefgh', 'abcdefgh/i']);
    const flat: string[] = [];
    for await (const info of s.list('')) flat.push(info.key);
    expect(flat).toEqual(['a', 'abcdefgh']);
    await s.delete('abcdefgh/i');
    expect((await readdir(join(root, 'data'))).sort()).toEqual(['a', 'a%2Fb', 'abcdefgh.f'].sort());
  });

  it('ignores files that are not escaped keys', async () => {
    const s = createPosixFlatStorage({ path: root });
    await s.write('k', 'v');
    await writeFile(join(root, 'data', 'abc%41'), 'stray');
    expect(await keys(s)).toEqual(['k']);
  });
});

describe('createObjectStorage', () => {
  it('builds a posix storage from its config', async () => {
    const s = createObjectStorage({ type: 'posix', path: root, basePath: 'rundata/' });
    await s.write('logs/1', 'x');
    expect(await readFile(join(root, 'data', 'rundata', 'logs', '1'), 'utf8')).toBe('x');
  });

  it('rejects unknown types and missing fields with ERR_OST_INVALID_CONFIG', () => {
    const bad = [
      { type: 'posixflat', path: root },
      { type: 'memory' },
      { type: 'posix' },
      { type: 's3' },
      { type: 's3', bucket: 'b', partSize: 1024 },
      {},
    ];
    for (const config of bad) {
      let err: unknown;
      try {
        createObjectStorage(config as never);
      } catch (e) {
        err = e;
      }
      expect(is(err, OstErrorCodes.InvalidConfig), JSON.stringify(config)).toBe(true);
    }
  });

  it('rejects an invalid base path', () => {
    expect(() => createPosixStorage({ path: root, basePath: '../x' })).toThrow('invalid base path');
    expect(() => withBasePath(createPosixStorage({ path: root }), '/abs')).toThrow('leading "/"');
  });
});

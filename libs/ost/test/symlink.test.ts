// A symlink inside the store never lets a call leave the root: not for reading, writing,
// deleting or listing, whether it links a file or a directory.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from '@agola-ts/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPosixFlatStorage,
  createPosixStorage,
  OstErrorCodes,
  type ObjectStorage,
} from '../src/index.js';
import { readAll } from '../src/streams.js';

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ost-symlink-'));
  root = join(base, 'store');
  outside = join(base, 'outside');
  await mkdir(join(root, 'data'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'outside secret');
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return Object.values(OstErrorCodes).find((c) => is(err, c)) ?? String(err);
  }
}

async function keys(s: ObjectStorage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const info of s.list(prefix, { recursive: true })) out.push(info.key);
  return out;
}

const OUT = OstErrorCodes.OutsideRoot;

interface Layout {
  make: (path: string) => ObjectStorage;
  /** A key whose first part is the directory `dirdirdi` on disk, and the rest `name`. */
  inDir: (dir: string, name: string) => string;
  /** A list prefix that starts listing inside `dir`. */
  dirPrefix: (dir: string) => string;
}

const layouts: [string, Layout][] = [
  [
    'posix',
    {
      make: (path) => createPosixStorage({ path }),
      inDir: (dir, name) => `${dir}/${name}`,
      dirPrefix: (dir) => `${dir}/`,
    },
  ],
  [
    // posixflat puts a real `/` after every 8 characters: `dirdirdi` + `secret`
    'posixflat',
    {
      make: (path) => createPosixFlatStorage({ path }),
      inDir: (dir, name) => `${dir}${name}`,
      // a prefix longer than a chunk starts listing inside the chunk's directory
      dirPrefix: (dir) => `${dir}s`,
    },
  ],
];

describe.each(layouts)('%s: symlinks out of the root', (_name, layout) => {
  const { make, inDir, dirPrefix } = layout;

  it('a symlinked file pointing outside: read and stat are refused, the target untouched', async () => {
    const s = make(root);
    await symlink(join(outside, 'secret'), join(root, 'data', 'leak'));
    expect(await codeOf(s.read('leak'))).toBe(OUT);
    expect(await codeOf(s.read('leak', { start: 0, end: 3 }))).toBe(OUT);
    expect(await codeOf(s.stat('leak'))).toBe(OUT);
    // A write replaces the link itself; the file outside keeps its content.
    await s.write('leak', 'new');
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('outside secret');
    expect((await readAll(await s.read('leak'))).toString()).toBe('new');
  });

  it('a symlinked directory pointing outside: read, stat, write, delete and list are refused', async () => {
    const s = make(root);
    await symlink(outside, join(root, 'data', 'dirdirdi'));
    expect(await codeOf(s.read(inDir('dirdirdi', 'secret')))).toBe(OUT);
    expect(await codeOf(s.stat(inDir('dirdirdi', 'secret')))).toBe(OUT);
    expect(await codeOf(s.write(inDir('dirdirdi', 'planted'), 'x'))).toBe(OUT);
    expect(await codeOf(s.write(inDir('dirdirdi', 'subsubsu/planted'), 'x'))).toBe(OUT);
    expect(await codeOf(s.delete(inDir('dirdirdi', 'secret')))).toBe(OUT);
    expect(await codeOf(keys(s, dirPrefix('dirdirdi')))).toBe(OUT);
    // Nothing outside changed, and a listing of the whole store skips the link.
    expect(await readdir(outside)).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('outside secret');
    expect(await keys(s)).toEqual([]);
  });

  it('symlinks that stay inside the root keep working', async () => {
    const s = make(root);
    await s.write(inDir('realreal', 'obj'), 'inside');
    await symlink(join(root, 'data', 'realreal'), join(root, 'data', 'aliasali'));
    expect((await readAll(await s.read(inDir('aliasali', 'obj')))).toString()).toBe('inside');
    expect((await s.stat(inDir('aliasali', 'obj'))).size).toBe(6);
    await s.write(inDir('aliasali', 'other'), 'via link');
    expect((await readAll(await s.read(inDir('realreal', 'other')))).toString()).toBe('via link');
  });

  it('a root that is itself reached through a symlink works', async () => {
    await symlink(root, join(base, 'link-to-store'));
    const s = make(join(base, 'link-to-store'));
    await s.write('x/y', 'ok');
    expect((await readAll(await s.read('x/y'))).toString()).toBe('ok');
    expect(await keys(s)).toEqual(['x/y']);
    await s.delete('x/y');
    expect(await keys(s)).toEqual([]);
  });
});

describe('posix: a symlink deeper in the tree', () => {
  it('is refused too, and a listing skips it', async () => {
    const s = createPosixStorage({ path: root });
    await s.write('a/b/keep', 'in');
    await symlink(outside, join(root, 'data', 'a', 'b', 'link'));
    expect(await codeOf(s.read('a/b/link/secret'))).toBe(OUT);
    expect(await codeOf(s.write('a/b/link/x/y', 'x'))).toBe(OUT);
    expect(await readdir(outside)).toEqual(['secret']);
    expect(await keys(s, 'a/')).toEqual(['a/b/keep']);
  });
});

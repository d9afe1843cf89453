import { readdir, readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { filePathOfURL, formatFrameLocation, parseFrameLine, relativeBelow } from './frame.js';

const at = (file: string) => ({ function: 'f', file, line: 7, column: 1 });

describe('file URLs', () => {
  test.each([
    'file:///home/me/app/src/a.ts',
    'file:///home/me/my%20app/src/b%C3%A9.ts',
    'file://localhost/srv/x.js',
    'file:///',
  ])('%s gives the path url.fileURLToPath gives', (url) => {
    expect(filePathOfURL(url)).toBe(fileURLToPath(url));
  });

  test('a round trip through pathToFileURL', () => {
    const path = '/tmp/a dir/#hash?/100%/ü.ts';
    expect(filePathOfURL(pathToFileURL(path).href)).toBe(path);
  });

  test('a drive URL gives a Windows path', () => {
    expect(filePathOfURL('file:///C:/Users/me/app/a.ts')).toBe('C:\\Users\\me\\app\\a.ts');
    expect(filePathOfURL('file:///d:/x%20y/b.ts')).toBe('d:\\x y\\b.ts');
  });

  test('URLs that are no local path stay undefined', () => {
    expect(filePathOfURL('file://server/share/a.ts')).toBeUndefined();
    expect(filePathOfURL('file:///a%2Fb.ts')).toBeUndefined();
    expect(filePathOfURL('https://example.com/a.ts')).toBeUndefined();
    expect(filePathOfURL('not a url')).toBeUndefined();
  });

  test('a stack line with a file URL is parsed to its path, another URL kept', () => {
    expect(parseFrameLine('    at async readWal (file:///repo/src/wal%20x.ts:12:5)')).toEqual({
      function: 'readWal',
      file: '/repo/src/wal x.ts',
      line: 12,
      column: 5,
    });
    expect(parseFrameLine('    at http://localhost:5173/src/app.ts:3:9')?.file).toBe(
      'http://localhost:5173/src/app.ts',
    );
    expect(parseFrameLine('    at file://remote/x.ts:1:2')?.file).toBe('file://remote/x.ts');
  });
});

describe('frame locations relative to the working directory', () => {
  test.each([
    ['/repo', '/repo/libs/a/src/x.ts'],
    ['/repo/', '/repo/libs/x.ts'],
    ['/repo', '/repo'],
    ['/repo', '/repository/x.ts'],
    ['/repo', '/other/x.ts'],
    ['/repo/libs', '/repo/x.ts'],
    ['/repo', '/repo/./libs/../x.ts'],
    ['/repo/a/../b', '/repo/b/c.ts'],
    ['/repo', '/repo/..cache/x.ts'],
    ['/', '/x/y.ts'],
  ])('cwd %s, file %s: as path.relative decides', (cwd, file) => {
    const rel = relative(cwd, file);
    const expected = rel && !rel.startsWith('..') ? rel : file;
    expect(formatFrameLocation(at(file), cwd)).toBe(`${expected}:7`);
  });

  test('a file that is no absolute path is shown as it is', () => {
    expect(formatFrameLocation(at('node:internal/fs/promises'), '/repo')).toBe(
      'node:internal/fs/promises:7',
    );
    expect(formatFrameLocation(at('<anonymous>'), '/repo')).toBe('<anonymous>:7');
  });

  test('Windows paths: either separator, drive letters in any case, shown with /', () => {
    expect(relativeBelow('C:\\repo', 'C:\\repo\\libs\\x.ts')).toBe('libs/x.ts');
    expect(relativeBelow('c:/Repo/', 'C:\\repo\\libs/x.ts')).toBe('libs/x.ts');
    expect(relativeBelow('C:\\repo', 'D:\\repo\\x.ts')).toBeUndefined();
    expect(relativeBelow('\\\\server\\share', '\\\\server\\share\\a\\b.ts')).toBe('a/b.ts');
    expect(relativeBelow('/repo', 'C:\\repo\\x.ts')).toBeUndefined();
    expect(formatFrameLocation(at('C:\\repo\\src\\y.ts'), 'C:\\repo')).toBe('src/y.ts:7');
  });

  test('the default is the process working directory', () => {
    expect(formatFrameLocation(at(`${process.cwd()}/src/z.ts`))).toBe('src/z.ts:7');
  });
});

test('browser-safe: the library code imports no node: modules', async () => {
  const dir = new URL('./', import.meta.url);
  let files = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const text = await readFile(new URL(name, dir), 'utf8');
    files++;
    expect(text, name).not.toMatch(/(from|import\(|require\()\s*'(node:|util|path|url|fs)['/]/);
  }
  expect(files).toBeGreaterThanOrEqual(9);
});

// docs/errors.md must list every error code the libraries and apps define, and nothing else.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name)) out.push(path);
  }
  return out;
}

/** Code literals (`'ERR_...'`, outside comments) in the non-test sources of every lib's src/. */
function codesInSource(): Map<string, string> {
  const codes = new Map<string, string>();
  const libsDir = join(root, 'libs');
  const libDirs = readdirSync(libsDir).flatMap((name) =>
    name === 'internal'
      ? readdirSync(join(libsDir, name)).map((n) => join(libsDir, name, n))
      : [join(libsDir, name)],
  );
  // apps define codes too (apps/agola)
  const appsDir = join(root, 'apps');
  for (const name of existsSync(appsDir) ? readdirSync(appsDir) : [])
    libDirs.push(join(appsDir, name));
  for (const lib of libDirs) {
    let files: string[];
    try {
      files = sourceFiles(join(lib, 'src'));
    } catch {
      continue;
    }
    for (const file of files) {
      // Comments (TSDoc examples) do not define codes.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^[ \t]*\/\/.*$/gm, '');
      for (const m of code.matchAll(/['"](ERR_[A-Z0-9_]+)['"]/g)) {
        if (!codes.has(m[1]!)) codes.set(m[1]!, relative(root, file));
      }
    }
  }
  return codes;
}

/** Codes in the first column of the tables in docs/errors.md. */
function codesInDocs(): Set<string> {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  return new Set([...doc.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!));
}

describe('docs/errors.md', () => {
  test('documents every code defined in the libraries', () => {
    const documented = codesInDocs();
    const missing = [...codesInSource()]
      .filter(([code]) => !documented.has(code))
      .map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  test('documents no code that no library defines', () => {
    const defined = codesInSource();
    expect([...codesInDocs()].filter((c) => !defined.has(c))).toEqual([]);
  });

  test('finds the codes of @agola-ts/errors (the scan itself works)', () => {
    const codes = codesInSource();
    expect(codes.get('ERR_NOT_EXIST')).toBe('libs/errors/src/codes.ts');
    expect(codesInDocs().has('ERR_REMOTE_BAD_RESPONSE')).toBe(true);
  });
});

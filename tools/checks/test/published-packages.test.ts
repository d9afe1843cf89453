// Every package published to npm carries its license and a README that reads well on the
// npm page: repo-relative links break there, so links must be absolute (or in-page anchors).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

interface PackageJson {
  name: string;
  private?: boolean;
  license?: string;
  files?: string[];
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PackageJson;

function packageDirs(): string[] {
  const libs = join(root, 'libs');
  return readdirSync(libs)
    .flatMap((name) =>
      name === 'internal'
        ? readdirSync(join(libs, name)).map((n) => join(libs, name, n))
        : [join(libs, name)],
    )
    .filter((dir) => existsSync(join(dir, 'package.json')));
}

const published = packageDirs()
  .map((dir) => ({ dir, rel: relative(root, dir), pkg: readJson(join(dir, 'package.json')) }))
  .filter(({ pkg }) => pkg.private !== true);

const rootPkg = readJson(join(root, 'package.json'));
const repoUrl = rootPkg.repository?.url ?? '';
/** `https://github.com/owner/name` from `git+https://github.com/owner/name.git`. */
const repoWeb = repoUrl.replace(/^git\+/, '').replace(/\.git$/, '');

/** Link targets of a markdown text: inline links and images, reference definitions, HTML. */
function linkTargets(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)) targets.push(m[1]!);
  return targets;
}

const worksOnNpm = (target: string) => /^(?:https?:|mailto:|#)/.test(target);

describe('published packages', () => {
  test('the root package.json names the repository (the base of every package link)', () => {
    expect(repoUrl).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
    expect(rootPkg.license).toBe('Apache-2.0');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toContain(
      'Apache License\n                           Version 2.0, January 2004',
    );
  });

  test('there are published packages to check', () => {
    expect(published.map((p) => p.pkg.name)).toEqual(
      expect.arrayContaining(['@agola-ts/errors', '@agola-ts/ost', '@agola-ts/runconfig']),
    );
  });

  test.each(published.map((p) => [p.pkg.name, p] as const))('%s', (_name, { dir, rel, pkg }) => {
    expect(pkg.license).toBe('Apache-2.0');
    // The license file is the root one, and it is in `files` (npm would add it anyway).
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(root, 'LICENSE'), 'utf8'),
    );
    expect(pkg.files).toContain('LICENSE');
    expect(pkg.repository).toEqual({ type: 'git', url: repoUrl, directory: rel });
    expect(pkg.homepage).toBe(`${repoWeb}/tree/main/${rel}#readme`);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(linkTargets(readme).filter((t) => !worksOnNpm(t))).toEqual([]);
  });

  test('npm pack puts LICENSE, README.md and package.json in every tarball', () => {
    // One npm process for every workspace: a dry run, nothing is written.
    const args = ['pack', '--dry-run', '--json', '--ignore-scripts'];
    for (const { rel } of published) args.push('-w', rel);
    const out = execFileSync('npm', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const packed = JSON.parse(out) as { name: string; files: { path: string }[] }[];
    expect(packed.map((p) => p.name).sort()).toEqual(published.map((p) => p.pkg.name).sort());
    for (const { name, files } of packed) {
      expect(
        files.map((f) => f.path),
        name,
      ).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    }
  });
});

describe('linkTargets (the scan itself works)', () => {
  test('finds inline, reference and HTML links, not code', () => {
    const md = [
      'See [docs](../../docs/errors.md) and ![x](img.png "t").',
      '[ref]: ./other.md',
      '<a href="https://example.com/a">a</a>',
      '`[not](a-link.md)`',
      '```',
      '[also not](code.md)',
      '```',
      '[in page](#errors)',
    ].join('\n');
    expect(linkTargets(md)).toEqual([
      '../../docs/errors.md',
      'img.png',
      '#errors',
      './other.md',
      'https://example.com/a',
    ]);
    expect(linkTargets(md).filter((t) => !worksOnNpm(t))).toEqual([
      '../../docs/errors.md',
      'img.png',
      './other.md',
    ]);
  });
});

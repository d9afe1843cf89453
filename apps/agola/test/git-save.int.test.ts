import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitSave } from '../src/git-save.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** Files of a commit, sorted. */
const filesOf = (cwd: string, rev: string) =>
  git(cwd, 'ls-tree', '-r', '--name-only', rev).split('\n').filter(Boolean).sort();

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'git-save-'));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Tester');
  git(dir, 'config', 'user.email', 'tester@example.com');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A repo with one commit, then a dirty tracked file, a staged file, untracked and ignored ones. */
async function dirtyRepo() {
  await writeFile(join(dir, 'tracked.txt'), 'v1\n');
  await writeFile(join(dir, '.gitignore'), 'ignored.log\nbuild/\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  await writeFile(join(dir, 'tracked.txt'), 'v2 uncommitted\n');
  await writeFile(join(dir, 'staged.txt'), 'staged\n');
  git(dir, 'add', 'staged.txt');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'untracked.txt'), 'untracked\n');
  await writeFile(join(dir, 'ignored.log'), 'ignored\n');
  await mkdir(join(dir, 'build'));
  await writeFile(join(dir, 'build', 'out.bin'), 'out\n');
}

/** Everything git-save must leave alone. */
async function snapshot() {
  return {
    head: git(dir, 'rev-parse', 'HEAD'),
    status: git(dir, 'status', '--porcelain=v1', '--ignored'),
    staged: git(dir, 'diff', '--cached', '--name-status'),
    index: await readFile(join(dir, '.git', 'index')),
    tracked: await readFile(join(dir, 'tracked.txt'), 'utf8'),
  };
}

describe('gitSave', () => {
  it('commits tracked changes, staged and untracked files (not ignored ones) on a private ref', async () => {
    await dirtyRepo();
    const before = await snapshot();
    const saved = await gitSave({ cwd: join(dir, 'sub'), message: 'saved' });

    expect(saved.ref).toBe('refs/agola/directrun/last');
    expect(git(dir, 'rev-parse', saved.ref)).toBe(saved.commitSHA);
    expect(saved.parentSHA).toBe(before.head);
    expect(git(dir, 'rev-parse', `${saved.commitSHA}^`)).toBe(before.head);
    expect(git(dir, 'log', '-1', '--format=%s', saved.commitSHA)).toBe('saved');
    expect(filesOf(dir, saved.commitSHA)).toEqual([
      '.gitignore',
      'staged.txt',
      'sub/untracked.txt',
      'tracked.txt',
    ]);
    expect(git(dir, 'show', `${saved.commitSHA}:tracked.txt`)).toBe('v2 uncommitted');

    // work tree, index and HEAD untouched; no temporary index left behind
    expect(await snapshot()).toEqual(before);
    expect(git(dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    const leftovers = execFileSync('ls', ['-a', join(dir, '.git')], { encoding: 'utf8' });
    expect(leftovers).not.toMatch(/agola-git-save-index/);
  });

  it('includes ignored files with `ignored`', async () => {
    await dirtyRepo();
    const before = await snapshot();
    const saved = await gitSave({ cwd: dir, ignored: true });
    expect(filesOf(dir, saved.commitSHA)).toEqual([
      '.gitignore',
      'build/out.bin',
      'ignored.log',
      'staged.txt',
      'sub/untracked.txt',
      'tracked.txt',
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('leaves untracked files out with `untracked: false` (tracked and staged changes stay)', async () => {
    await dirtyRepo();
    const saved = await gitSave({ cwd: dir, untracked: false, ref: 'refs/agola/directrun/x' });
    expect(filesOf(dir, saved.commitSHA)).toEqual(['.gitignore', 'staged.txt', 'tracked.txt']);
    expect(git(dir, 'show', `${saved.commitSHA}:tracked.txt`)).toBe('v2 uncommitted');
  });

  it('works in a repository with no commits (a root commit, HEAD still unborn)', async () => {
    await writeFile(join(dir, 'a.txt'), 'a\n');
    const saved = await gitSave({ cwd: dir });
    expect(saved.parentSHA).toBeUndefined();
    expect(git(dir, 'rev-list', '--count', saved.commitSHA)).toBe('1');
    expect(filesOf(dir, saved.commitSHA)).toEqual(['a.txt']);
    expect(() => git(dir, 'rev-parse', '--verify', '--quiet', 'HEAD')).toThrow();
    expect(git(dir, 'status', '--porcelain')).toBe('?? a.txt');
    await expect(stat(join(dir, '.git', 'index'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('commits without a configured identity', async () => {
    git(dir, 'config', '--unset', 'user.name');
    git(dir, 'config', '--unset', 'user.email');
    await writeFile(join(dir, 'a.txt'), 'a\n');
    const env = { HOME: dir, XDG_CONFIG_HOME: dir, GIT_CONFIG_NOSYSTEM: '1' };
    const saved = await withEnv(env, () => gitSave({ cwd: dir }));
    expect(git(dir, 'log', '-1', '--format=%an <%ae>', saved.commitSHA)).toBe(
      'agola directrun <directrun@agola.invalid>',
    );
  });

  it('says when the directory is not a git work tree', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'not-git-'));
    try {
      await expect(gitSave({ cwd: plain })).rejects.toMatchObject({
        code: 'ERR_AGOLA_NOT_A_GIT_REPO',
      });
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('refuses a ref outside its prefix or one git would refuse', async () => {
    await writeFile(join(dir, 'a.txt'), 'a\n');
    await expect(gitSave({ cwd: dir, ref: 'refs/heads/main' })).rejects.toMatchObject({
      code: 'ERR_AGOLA_GIT',
    });
    await expect(gitSave({ cwd: dir, ref: 'refs/agola/directrun/a..b' })).rejects.toMatchObject({
      code: 'ERR_AGOLA_GIT',
    });
  });
});

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const old = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of old) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

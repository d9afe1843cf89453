import { describe, expect, test } from 'vitest';
import { parseGitRequestPath } from './gitserver.js';
import { checkRawArgs } from './raw-file.js';
import { checkRepoPath } from './repo-path.js';

describe('parseGitRequestPath', () => {
  test('the three smart HTTP routes and raw files (a ref with slashes is one encoded segment)', () => {
    expect(parseGitRequestPath('/u1/r1.git/info/refs')).toEqual({
      kind: 'info-refs',
      repoPath: 'u1/r1.git',
    });
    expect(parseGitRequestPath('/u1/r1.git/git-upload-pack')).toEqual({
      kind: 'upload-pack',
      repoPath: 'u1/r1.git',
    });
    expect(parseGitRequestPath('/u1/r1.git/git-receive-pack')).toEqual({
      kind: 'receive-pack',
      repoPath: 'u1/r1.git',
    });
    expect(parseGitRequestPath('/u1/r1.git/raw/refs%2Fheads%2Fmain/.agola/config.yml')).toEqual({
      kind: 'raw',
      repoPath: 'u1/r1.git',
      ref: 'refs/heads/main',
      path: '.agola/config.yml',
    });
    expect(parseGitRequestPath('/u1/r1/info/refs')).toBeUndefined();
    expect(parseGitRequestPath('/u1/r1.git/raw/main')).toBeUndefined();
    expect(parseGitRequestPath('/u1/r1.git/objects/info/packs')).toBeUndefined();
  });
});

describe('checkRepoPath', () => {
  test.each([
    ['', /empty/],
    ['/abs/r.git', /absolute/],
    ['u/r', /does not end in \.git/],
    ['../x.git', /starts with a dot/],
    ['u/../r.git', /starts with a dot/],
    ['u/./r.git', /starts with a dot/],
    ['u//r.git', /empty segment/],
    ['a/b.git/c.git', /parent "b\.git" ends in \.git/],
    ['u/.git', /starts with a dot/],
    ['u\\..\\r.git', /forbidden character/],
    ['u/r\n.git', /forbidden character/],
    [`u/${'x'.repeat(1100)}.git`, /longer than/],
  ])('%j is refused', (path, why) => {
    expect(() => checkRepoPath(path)).toThrow(why);
    try {
      checkRepoPath(path);
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_GITSERVER_INVALID_REPO_PATH', kind: 'badrequest' });
    }
  });

  test('a user and uuid path is accepted', () => {
    expect(checkRepoPath('u1/6f1f7a52-0b7e-4f6e-9d55-3c2f0d6f4a11.git')).toEqual([
      'u1',
      '6f1f7a52-0b7e-4f6e-9d55-3c2f0d6f4a11.git',
    ]);
  });
});

describe('checkRawArgs', () => {
  test.each([
    ['-h', 'f'],
    ['--output=/tmp/x', 'f'],
    [':/message', 'f'],
    ['main:other', 'f'],
    ['main', '../x'],
    ['main', './x'],
    ['main', 'a//b'],
    ['', 'f'],
    ['main', ''],
    ['ma\nin', 'f'],
  ])('ref %j path %j is refused', (ref, path) => {
    expect(() => checkRawArgs(ref, path)).toThrow(
      expect.objectContaining({ code: 'ERR_GITSERVER_INVALID_REF' }),
    );
  });

  test('refs, commit ids and nested paths are accepted', () => {
    expect(() => checkRawArgs('refs/heads/main', '.agola/config.yml')).not.toThrow();
    expect(() => checkRawArgs('a'.repeat(40), 'dir/file.txt')).not.toThrow();
  });
});

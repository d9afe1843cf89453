import { is } from '@agola-ts/errors';
import { describe, expect, it } from 'vitest';
import { OstErrorCodes } from './codes.js';
import { compareKeys, normalizeBasePath, validateKey, validatePrefix } from './keys.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return is(err, OstErrorCodes.InvalidKey) ? OstErrorCodes.InvalidKey : 'other';
  }
  return undefined;
}

describe('validateKey', () => {
  it.each(['a', 'a/b', 'a b/c%d', '..a', 'a..', '.x', 'a/.b', '日本/語', '😀'])(
    'accepts %j',
    (key) => {
      expect(codeOf(() => validateKey(key))).toBeUndefined();
    },
  );

  it.each(['', '/', '/a', 'a/', 'a//b', '.', '..', '../a', 'a/..', 'a/./b', 'a\0'])(
    'rejects %j with ERR_OST_INVALID_KEY',
    (key) => {
      expect(codeOf(() => validateKey(key))).toBe(OstErrorCodes.InvalidKey);
    },
  );

  it('says what is wrong', () => {
    expect(() => validateKey('a/../b')).toThrow('invalid key "a/../b": ".." segment');
    expect(() => validateKey('/a')).toThrow('leading "/"');
  });
});

describe('validatePrefix', () => {
  it.each(['', 'a', 'a/', 'a/b', 'a/b/', 'a/.', 'a/..', '.'])('accepts %j', (prefix) => {
    expect(codeOf(() => validatePrefix(prefix))).toBeUndefined();
  });

  it.each(['/', '/a', 'a//', '../', 'a/../', 'a/./b', 'a\0'])('rejects %j', (prefix) => {
    expect(codeOf(() => validatePrefix(prefix))).toBe(OstErrorCodes.InvalidKey);
  });
});

describe('normalizeBasePath', () => {
  it('adds a trailing slash and keeps an empty path empty', () => {
    expect(normalizeBasePath(undefined)).toBe('');
    expect(normalizeBasePath('')).toBe('');
    expect(normalizeBasePath('configdata')).toBe('configdata/');
    expect(normalizeBasePath('a/b/')).toBe('a/b/');
  });

  it.each(['/', '/a', 'a//', '../x', 'a/../b/'])('rejects %j', (path) => {
    expect(codeOf(() => normalizeBasePath(path))).toBe(OstErrorCodes.InvalidKey);
  });
});

describe('compareKeys', () => {
  it('orders by code point, like UTF-8 bytes (S3 order)', () => {
    const keys = ['b', 'a/b', 'a-c', 'a', '\uff5e', '😀', 'é', 'Z', 'a0', ''];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    // Plain string order differs for astral characters.
    expect(['😀', '\uff5e'].sort()).toEqual(['😀', '\uff5e']);
    expect(['😀', '\uff5e'].sort(compareKeys)).toEqual(['\uff5e', '😀']);
  });

  it('puts a prefix before its extensions', () => {
    expect(compareKeys('a', 'a/')).toBeLessThan(0);
    expect(compareKeys('abc', 'abc')).toBe(0);
  });
});

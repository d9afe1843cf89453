import { describe, expect, it } from 'vitest';
import { escapeFlatKey, flatListRoot, unescapeFlatKey } from './posixflat-escape.js';

describe('posixflat escaping', () => {
  it.each([
    ['a', 'a'],
    ['a/b', 'a%2Fb'],
    ['100%', '100%25'],
    ['abcdefg', 'abcdefg'],
    ['abcdefgh', 'abcdefgh.f'],
    ['abcdefghi', 'abcdefgh/i'],
    ['abcdefghijklmnop', 'abcdefgh/ijklmnop.f'],
    ['abcdefghijklmnopq', 'abcdefgh/ijklmnop/q'],
    ['a/b/c/d/', 'a%2Fb%2Fc%2Fd%2F.f'],
    ['wals/data/0001', 'wals%2Fdat/a%2F0001'],
    ['日本語のキーです。長い', '日本語のキーです/。長い'],
    ['abcdefgh..', 'abcdefgh/%2E%2E'],
    ['abcdefgh.', 'abcdefgh/%2E'],
  ])('%j <-> %j', (key, escaped) => {
    expect(escapeFlatKey(key)).toBe(escaped);
    expect(unescapeFlatKey(escaped)).toBe(key);
  });

  it('round-trips keys of every length around multiples of 8', () => {
    const alphabet = 'ab/%.c d😀é';
    for (let len = 1; len <= 33; len++) {
      for (let shift = 0; shift < alphabet.length; shift++) {
        const chars = [...alphabet];
        const key = Array.from({ length: len }, (_, i) => chars[(i + shift) % chars.length]).join(
          '',
        );
        const escaped = escapeFlatKey(key);
        expect(unescapeFlatKey(escaped), `${key} -> ${escaped}`).toBe(key);
        // Real separators only after every 8 characters: one level per full chunk.
        const levels = escaped.split('/').length - 1;
        expect(levels).toBe(len % 8 === 0 ? len / 8 - 1 : Math.floor(len / 8));
        expect(escaped.endsWith('.f')).toBe(len % 8 === 0 || key.endsWith('.f'));
      }
    }
  });

  it('a key and the same key with a "directory" below it map to distinct paths', () => {
    expect(escapeFlatKey('abcdefgh')).toBe('abcdefgh.f');
    expect(escapeFlatKey('abcdefgh/x').startsWith('abcdefgh/')).toBe(true);
    expect(escapeFlatKey('a')).not.toBe(escapeFlatKey('a/b'));
  });

  it.each([
    '',
    'abc/def', // separator after 3 characters
    'abcdefghi/j', // separator after 9
    'abcdefgh', // a full chunk needs the .f marker
    'abcdefgh/', // empty last part
    'ab%2', // truncated escape
    'ab%41', // an escape the scheme never writes
    'a%2E', // %2E only where a chunk is only dots
  ])('rejects %j', (path) => {
    expect(unescapeFlatKey(path)).toBeUndefined();
  });

  it('keeps ".f" that is part of a short key', () => {
    expect(escapeFlatKey('ab.f')).toBe('ab.f');
    expect(unescapeFlatKey('ab.f')).toBe('ab.f');
    expect(escapeFlatKey('abcdef.f')).toBe('abcdef.f.f');
    expect(unescapeFlatKey('abcdef.f.f')).toBe('abcdef.f');
  });

  it('lists from the directory that holds every key with the prefix', () => {
    expect(flatListRoot('')).toBe('');
    expect(flatListRoot('abc')).toBe('');
    expect(flatListRoot('abcdefgh')).toBe('');
    expect(flatListRoot('abcdefghi')).toBe('abcdefgh/');
    expect(flatListRoot('a/bcdefghijklmnop')).toBe('a%2Fbcdefg/hijklmno/');
    expect(flatListRoot('a/bcdefghijklmno')).toBe('a%2Fbcdefg/');
  });
});

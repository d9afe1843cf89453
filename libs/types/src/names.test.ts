import { describe, expect, it } from 'vitest';
import { isAuthTypeSupported } from './remote-source.js';
import { MAX_NAME_LENGTH, NAME_REGEXP, isUuid, isValidName } from './names.js';

describe('names', () => {
  it('accepts names of letters, digits and single dashes', () => {
    for (const n of ['ab', 'alice', 'my-org', 'a1-b2-c3', 'A9']) expect(isValidName(n)).toBe(true);
  });
  it('rejects bad names and UUIDs', () => {
    const bad = ['', 'a', '1abc', '-ab', 'ab-', 'a--b', 'a_b', 'a b', 'a/b', 'é-a'];
    for (const n of bad) expect(isValidName(n)).toBe(false);
    expect(isValidName('2d0ad1a8-1e08-4a67-a1b9-1ad8c5b0a3e4')).toBe(false);
    expect(isUuid('2D0AD1A8-1E08-4A67-A1B9-1AD8C5B0A3E4')).toBe(true);
  });
  it('caps names at MAX_NAME_LENGTH characters', () => {
    expect(isValidName('a'.repeat(MAX_NAME_LENGTH))).toBe(true);
    expect(isValidName('a'.repeat(MAX_NAME_LENGTH + 1))).toBe(false);
  });
  it('matches in linear time: hostile names are answered at once', () => {
    // Agola's form took ~3 s on 29 characters and 4x more per 2 more; here 100k characters
    // would never finish with a backtracking form
    const hostile = `a${'a1'.repeat(50_000)}!`;
    expect(NAME_REGEXP.test(hostile)).toBe(false);
    expect(NAME_REGEXP.test(`${'a-'.repeat(50_000)}-`)).toBe(false);
    expect(NAME_REGEXP.test(`a${'b-c'.repeat(50_000)}`)).toBe(true);
  });
  it('knows which auth types a remote source type supports', () => {
    expect(isAuthTypeSupported('gitea', 'password')).toBe(true);
    expect(isAuthTypeSupported('github', 'password')).toBe(false);
    expect(isAuthTypeSupported('gitlab', 'oauth2')).toBe(true);
  });
});

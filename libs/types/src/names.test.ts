import { describe, expect, it } from 'vitest';
import { isAuthTypeSupported } from './remote-source.js';
import { isUuid, isValidName } from './names.js';

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
  it('knows which auth types a remote source type supports', () => {
    expect(isAuthTypeSupported('gitea', 'password')).toBe(true);
    expect(isAuthTypeSupported('github', 'password')).toBe(false);
    expect(isAuthTypeSupported('gitlab', 'oauth2')).toBe(true);
  });
});

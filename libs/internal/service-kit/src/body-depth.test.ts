import { describe, expect, it } from 'vitest';
import { jsonDepth } from './body-depth.js';

describe('jsonDepth', () => {
  it('counts nested objects and arrays, not brackets inside strings', () => {
    expect(jsonDepth('1', 10)).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":[]}]}', 10)).toBe(4);
    expect(jsonDepth('{"a":"[[[{{{"}', 10)).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[", "b": [1]}', 10)).toBe(2);
  });
  it('stops past the limit', () => {
    expect(jsonDepth('['.repeat(5000) + ']'.repeat(5000), 64)).toBe(65);
    expect(jsonDepth('['.repeat(64) + ']'.repeat(64), 64)).toBe(64);
  });
});

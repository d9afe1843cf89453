import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from './codes.js';
import { bindParams } from './params.js';

describe('bindParams', () => {
  test('arrays pass through, bigints become numbers', () => {
    const arr = [1, 'a', null];
    expect(bindParams('select ?', arr)).toBe(arr);
    expect(bindParams('select ?', [5n])).toEqual([5]);
    expect(bindParams('select 1', undefined)).toEqual([]);
  });

  test('named: keys with or without prefix, unused keys dropped, undefined as null', () => {
    expect(
      bindParams('select $a, :b, @c, $a', { a: 1, ':b': 'x', c: undefined, unused: 3 }),
    ).toEqual({ $a: 1, ':b': 'x', '@c': null });
  });

  test('names inside literals and comments are not parameters', () => {
    expect(bindParams("select '12:30 $x' -- :y\n, $z", { z: 1 })).toEqual({ $z: 1 });
  });

  test('a missing name is an error naming the parameter, not values', () => {
    let err: unknown;
    try {
      bindParams('select $a, $b', { a: 'secret' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: DbErrorCodes.InvalidArgument });
    expect((err as Error).message).toBe('missing named parameter $b');
  });

  test('bigints outside the safe range are refused', () => {
    expect(() => bindParams('select ?', [2n ** 60n])).toThrow(/parameter 1: bigint/);
  });
});

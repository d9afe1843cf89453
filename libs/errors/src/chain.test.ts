import { describe, expect, test, vi } from 'vitest';
import {
  AgolaError,
  ApiError,
  as,
  causeChain,
  findCause,
  is,
  newError,
  notExist,
  wrap,
} from './index.js';

describe('chain walking', () => {
  test('is() finds a code at any depth, including third-party string codes', () => {
    const sys = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const err = wrap(wrap(wrap(sys, 'a'), 'b', { code: 'ERR_TEST_B' }), 'c');
    expect(is(err, 'ENOENT')).toBe(true);
    expect(is(err, 'ERR_TEST_B')).toBe(true);
    expect(is(err, 'ERR_TEST_NOPE')).toBe(false);
    expect(is(undefined, 'ENOENT')).toBe(false);
  });

  test('as() returns the first element of a class', () => {
    const api = notExist('user "u1" does not exist');
    const err = wrap(wrap(api, 'getting user'), 'handler');
    expect(as(err, ApiError)).toBe(api);
    expect(as(newError('x'), ApiError)).toBeUndefined();
    expect(as(err, AgolaError)).toBe(err);
  });

  test('findCause and causeChain stop at cycles', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect([...causeChain(b)]).toEqual([b, a]);
    expect(findCause(b, (e) => e === a)).toBe(a);
    expect(findCause(b, () => false)).toBeUndefined();
    expect(is(b, 'X')).toBe(false);
  });

  test('instanceof works across two copies of the package (brand, not identity)', async () => {
    // A second module instance stands for a duplicate install of @agola-ts/errors.
    vi.resetModules();
    const copy = await import('./index.js');
    expect(copy.ApiError).not.toBe(ApiError);
    const foreign = new copy.ApiError('notexist', 'missing');
    expect(foreign instanceof ApiError).toBe(true);
    expect(foreign instanceof AgolaError).toBe(true);
    expect(as(wrap(foreign, 'outer'), ApiError)).toBe(foreign);
    expect(newError('x') instanceof copy.ApiError).toBe(false);
    expect(new Error('x') instanceof copy.AgolaError).toBe(false);
  });
});

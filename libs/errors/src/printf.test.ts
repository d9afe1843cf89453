import { format } from 'node:util';
import { describe, expect, test } from 'vitest';
import { formatMessage } from './printf.js';

class Named {
  toString() {
    return 'named!';
  }
}

describe('formatMessage', () => {
  // the same text as util.format for everything errorf/wrapf callers pass
  const same: Array<[string, unknown[]]> = [
    ['bad value %s at %d: %j', ['x', 3, { a: 1 }]],
    ['writing wal %d', [42]],
    ['no such run config task with id %s for run config %s', ['t1', 'rc1']],
    ['%s %s %s %s %s', [undefined, null, true, 12n, -0]],
    ['%d %d %d %d %d', ['7', -0, 1.5, 12n, 'x']],
    ['%i %i %f %f', ['42.9px', -3.7, '1.25e2', 'x']],
    ['%j %j %j', [[1, 'a'], 'str', undefined]],
    ['100%% done, %s', ['ok']],
    ['%s and %s', ['one']],
    ['no placeholders', ['extra', 3, null]],
    ['%c%s', ['color: red', 'styled']],
    ['%x stays, %s', ['taken']],
    ['%s', [new Named()]],
    ['%s', [new Date(0)]],
    ['', []],
  ];
  test.each(same)('%j formats like util.format', (fmt, args) => {
    expect(formatMessage(fmt, args)).toBe(format(fmt, ...args));
  });

  test('a cyclic %j is [Circular]', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(formatMessage('x %j', [cyclic])).toBe('x [Circular]');
  });

  test('an Error under %s prints its stack; a plain object prints as JSON', () => {
    const err = new Error('boom');
    expect(formatMessage('got %s', [err])).toBe(`got ${err.stack}`);
    expect(formatMessage('got %s', [{ a: [1, 2] }])).toBe('got {"a":[1,2]}');
    expect(formatMessage('got %o', [{ a: 1 }])).toBe('got {"a":1}');
  });
});

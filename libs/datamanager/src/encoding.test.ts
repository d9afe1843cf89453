import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import { decodeWalDataFile, encodeAction, splitJsonObjects } from './encoding.js';

describe('splitJsonObjects', () => {
  test('splits back-to-back and newline-separated objects, braces inside strings included', () => {
    const a = '{"ID":"a{b}","Data":"x\\"}"}';
    const b = '{"n":{"deep":[1,{"x":"]"}]}}';
    const buf = Buffer.from(`${a}${b}\n  ${a}\n`);
    const ranges = splitJsonObjects(buf, 'test');
    expect(ranges.map(([s, e]) => buf.subarray(s, e).toString())).toEqual([a, b, a]);
  });

  test.each([
    ['a truncated object', '{"a":1}{"b":'],
    ['an unterminated string', '{"a":"x}'],
    ['garbage between objects', '{"a":1} x {"b":2}'],
  ])('%s is a corrupt-file error', (_name, text) => {
    const err = (() => {
      try {
        splitJsonObjects(Buffer.from(text), 'wals/data/x');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(is(err, DataManagerErrorCodes.Corrupt)).toBe(true);
    expect((err as Error).message).toMatch(/^wals\/data\/x: /);
  });
});

describe('wal data files', () => {
  test("round trip in Agola's field names; deletes carry null data", () => {
    const text =
      encodeAction({ actionType: 'put', dataType: 'user', id: 'u1', data: 'héllo' }) +
      encodeAction({ actionType: 'delete', dataType: 'user', id: 'u2' });
    expect(text.split('\n')[1]).toBe(
      '{"ActionType":"delete","DataType":"user","ID":"u2","Data":null}',
    );
    const actions = decodeWalDataFile(Buffer.from(text), 'w');
    expect(actions.map((a) => [a.actionType, a.id, a.data.toString()])).toEqual([
      ['put', 'u1', 'héllo'],
      ['delete', 'u2', ''],
    ]);
  });

  test('an unknown action type is a corrupt-file error', () => {
    expect(() =>
      decodeWalDataFile(
        Buffer.from('{"ActionType":"upsert","DataType":"u","ID":"x","Data":null}'),
        'w',
      ),
    ).toThrow('w: unknown ActionType "upsert"');
  });
});

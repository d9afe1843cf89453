import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import {
  decodeDataEntry,
  decodeWalDataFile,
  encodeAction,
  encodeDataEntry,
  splitJsonObjects,
} from './encoding.js';

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

describe('JsonObjectSplitter', () => {
  test('objects split across chunks at every byte position come out whole', async () => {
    const { JsonObjectSplitter } = await import('./encoding.js');
    const text = '{"id":"a","data":"x{\\"}"}\n{"id":"b","n":[1,{"y":2}]}{"id":"c"}\n';
    for (let cut = 1; cut < text.length; cut++) {
      for (const size of [1, 3, cut]) {
        const splitter = new JsonObjectSplitter('t');
        const out: string[] = [];
        const buf = Buffer.from(text);
        for (let i = 0; i < buf.length; i += size) {
          out.push(...splitter.push(buf.subarray(i, i + size)).map((b) => b.toString()));
        }
        splitter.end();
        expect(out).toEqual([
          '{"id":"a","data":"x{\\"}"}',
          '{"id":"b","n":[1,{"y":2}]}',
          '{"id":"c"}',
        ]);
      }
    }
  });

  test('a truncated stream fails at the end', async () => {
    const { JsonObjectSplitter } = await import('./encoding.js');
    const splitter = new JsonObjectSplitter('import stream');
    splitter.push(Buffer.from('{"id":"a"}{"id":'));
    expect(() => splitter.end()).toThrow('import stream: truncated JSON object');
  });
});

describe('decodeDataEntry', () => {
  const data = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 0x22, 0x5c]);

  test.each([
    ['our encoding', encodeDataEntry({ id: 'u1', dataType: 'user', data })],
    ['escapes in the id', encodeDataEntry({ id: 'a"b\\c\u00e9/é', dataType: 'user', data })],
    ['other field order', `{"data":"${data.toString('base64')}","id":"u1","data_type":"user"}`],
    [
      'whitespace inside',
      `{ "id": "u1", "data_type": "user", "data": "${data.toString('base64')}" }`,
    ],
    [
      'escaped base64',
      `{"id":"u1","data_type":"user","data":"${data.toString('base64').replace(/\//g, '\\/')}"}`,
    ],
  ])('%s decodes to the same entry as JSON.parse', (_name, text) => {
    const parsed = JSON.parse(text) as { id: string; data_type: string; data: string };
    expect(decodeDataEntry(Buffer.from(text), 'f')).toEqual({
      id: parsed.id,
      dataType: parsed.data_type,
      data: Buffer.from(parsed.data, 'base64'),
    });
  });

  test('null data is an empty buffer; an extra value after the object is corrupt', () => {
    expect(
      decodeDataEntry(Buffer.from('{"id":"u1","data_type":"user","data":null}\n'), 'f'),
    ).toEqual({
      id: 'u1',
      dataType: 'user',
      data: Buffer.alloc(0),
    });
    const err = (() => {
      try {
        decodeDataEntry(Buffer.from('{"id":"u1","data_type":"user","data":"AA=="} x'), 'f');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(is(err, DataManagerErrorCodes.Corrupt)).toBe(true);
  });
});

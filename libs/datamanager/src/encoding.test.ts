import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import {
  decodeCanonicalDataEntry,
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

describe('decodeCanonicalDataEntry', () => {
  /** What the JSON path makes of the bytes: the entry, or 'corrupt'. */
  const viaJson = (bytes: Buffer): unknown => {
    try {
      const obj = JSON.parse(bytes.toString()) as Record<string, unknown>;
      if (typeof obj['id'] !== 'string' || typeof obj['data_type'] !== 'string') return 'corrupt';
      const data = obj['data'];
      if (data !== null && data !== undefined && typeof data !== 'string') return 'corrupt';
      return {
        id: obj['id'],
        dataType: obj['data_type'],
        data: Buffer.from(typeof data === 'string' ? data : '', 'base64'),
      };
    } catch {
      return 'corrupt';
    }
  };
  // a seeded generator: a failure names its seed
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  test('decodes our encoding, and Go-style escapes in the id, to what JSON.parse gives', () => {
    const data = Buffer.from([0, 1, 2, 250, 255, 0x22, 0x5c, 0x0a]);
    for (const id of ['u1', 'é/ü', '日本', 'a b']) {
      const bytes = Buffer.from(encodeDataEntry({ id, dataType: 'user', data }));
      expect(decodeCanonicalDataEntry(bytes, 0, bytes.length)).toEqual(viaJson(bytes));
    }
    // escapes (ours for a quote, Go's \u003c for '<') are left to JSON.parse
    for (const text of [
      encodeDataEntry({ id: 'a"b', dataType: 'user', data }),
      `{"id":"a\\u003cb","data_type":"user","data":"${data.toString('base64')}"}`,
    ]) {
      expect(decodeCanonicalDataEntry(Buffer.from(text), 0, text.length)).toBeUndefined();
      expect(decodeDataEntry(Buffer.from(text), 'f')).toEqual(viaJson(Buffer.from(text)));
    }
  });

  test('cuts its data from the arena while there is room, then allocates', () => {
    const arena = { buf: Buffer.alloc(6), used: 0 };
    const one = Buffer.from(encodeDataEntry({ id: 'a', dataType: 't', data: Buffer.from('abcd') }));
    const first = decodeCanonicalDataEntry(one, 0, one.length, arena)!;
    expect(first.data.toString()).toBe('abcd');
    expect(first.data.buffer).toBe(arena.buf.buffer);
    expect(arena.used).toBe(4);
    const second = decodeCanonicalDataEntry(one, 0, one.length, arena)!;
    expect(second.data.toString()).toBe('abcd');
    expect(second.data.buffer).not.toBe(arena.buf.buffer);
    expect(arena.used).toBe(4);
  });

  // every mutation of a canonical line either decodes to exactly what the JSON path gives, or
  // is left to the JSON path (undefined): the fast path never accepts what JSON refuses, nor
  // decodes anything differently
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('mutated lines agree with JSON.parse (seed %i)', (seed) => {
    const rnd = random(seed);
    const alphabet = 'AZaz09+/=-_"\\ \n\t\u0001{}:,éu';
    let fast = 0;
    for (let n = 0; n < 2000; n++) {
      const data = Buffer.from(
        Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 256)),
      );
      const line = [...encodeDataEntry({ id: `id${n}`, dataType: 'user', data })];
      for (let m = Math.floor(rnd() * 3); m > 0; m--) {
        const at = Math.floor(rnd() * line.length);
        const c = alphabet[Math.floor(rnd() * alphabet.length)]!;
        const op = rnd();
        if (op < 0.4) line[at] = c;
        else if (op < 0.7) line.splice(at, 0, c);
        else line.splice(at, 1);
      }
      const bytes = Buffer.from(line.join(''));
      const got = decodeCanonicalDataEntry(bytes, 0, bytes.length);
      if (got === undefined) continue;
      fast++;
      expect(got, JSON.stringify(line.join(''))).toEqual(viaJson(bytes));
    }
    // most lines keep their layout: the fast path is really taken
    expect(fast).toBeGreaterThan(500);
  });
});

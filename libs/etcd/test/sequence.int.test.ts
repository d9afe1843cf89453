import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { EtcdErrorCodes, incSequence, Sequence, sequenceEpoch } from '../src/index.js';
import { testClient } from './helpers.js';

describe('Sequence', () => {
  test('formats as 13+13 base32 characters and parses back', () => {
    const s = new Sequence(1n, 1n);
    expect(s.toString()).toBe('0000000000001-0000000000001');
    expect(new Sequence(31n, 32n).toString()).toBe('000000000000v-0000000000010');
    const max = new Sequence((1n << 64n) - 1n, 0n);
    expect(max.toString()).toBe('fvvvvvvvvvvvv-0000000000000');
    expect(Sequence.parse(max.toString())).toEqual(max);
  });

  test('string order is numeric order (random pairs)', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return BigInt(seed) * BigInt(seed);
    };
    for (let i = 0; i < 2000; i++) {
      const a = new Sequence(rnd() % 5n, rnd());
      const b = new Sequence(rnd() % 5n, rnd());
      const numeric =
        a.epoch !== b.epoch
          ? a.epoch < b.epoch
            ? -1
            : 1
          : a.counter < b.counter
            ? -1
            : a.counter > b.counter
              ? 1
              : 0;
      expect(Sequence.compare(a, b)).toBe(numeric);
      expect(Sequence.compare(a.reverse(), b.reverse())).toBe(-numeric);
    }
  });

  test.each([
    '',
    '0000000000001',
    '0000000000001-000000000000w',
    '0000000000001-0000000000001-1',
    'zz-zz',
  ])('rejects %j', (text) => {
    expect(() => Sequence.parse(text)).toThrow(/invalid sequence/);
  });
});

describe('incSequence', () => {
  test('concurrent increments are all distinct and ordered', async () => {
    const c = await testClient('seq');
    try {
      const seqs = await Promise.all(Array.from({ length: 20 }, () => incSequence(c, 'walseq')));
      const strings = seqs.map(String);
      expect(new Set(strings).size).toBe(20);
      expect(seqs.map((s) => s.counter).sort((a, b) => Number(a - b))).toEqual(
        Array.from({ length: 20 }, (_, i) => BigInt(i + 1)),
      );
      expect(new Set(seqs.map((s) => s.epoch)).size).toBe(1);
      // stored as Agola's JSON
      const { kv } = await c.get('walseq');
      expect(JSON.parse(kv!.value.toString())).toEqual({ Epoch: Number(seqs[0]!.epoch), C: 20 });
    } finally {
      c.close();
    }
  });

  test('a missing key starts a new, greater epoch', async () => {
    const c = await testClient('seq');
    try {
      const a = await incSequence(c, 's', { now: () => 1000n });
      await c.delete('s');
      const b = await incSequence(c, 's', { now: () => 2000n });
      expect(b.epoch).toBe(2000n);
      expect(b.counter).toBe(1n);
      expect(Sequence.compare(a, b)).toBe(-1);
      expect(sequenceEpoch(b.toString())).toBe(2000n);
    } finally {
      c.close();
    }
  });

  test('reads counters above 2^53 exactly', async () => {
    const c = await testClient('seq');
    try {
      await c.put('big', '{"Epoch":7,"C":9007199254740993}');
      expect((await incSequence(c, 'big')).counter).toBe(9007199254740994n);
    } finally {
      c.close();
    }
  });

  test('a key holding something else is an invalid-sequence error', async () => {
    const c = await testClient('seq');
    try {
      await c.put('bad', 'not json');
      expect(
        is(await incSequence(c, 'bad').catch((e: unknown) => e), EtcdErrorCodes.InvalidSequence),
      ).toBe(true);
      await c.put('bad2', '{"x":1}');
      expect(
        is(await incSequence(c, 'bad2').catch((e: unknown) => e), EtcdErrorCodes.InvalidSequence),
      ).toBe(true);
    } finally {
      c.close();
    }
  });
});

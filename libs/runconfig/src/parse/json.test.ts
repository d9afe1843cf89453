import { describe, expect, test } from 'vitest';
import { RunconfigErrorCodes } from '../codes.js';
import { parseJsonDocument } from './json.js';

/** mulberry32: a seeded PRNG, so every run checks the same documents. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return [0, -1, 1.5, 1e21, -0.25, 123456789, 2e-7][Math.floor(rand() * 7)];
    case 3:
    case 4:
      return ['', 'a', 'é', '"q"', 'back\\slash', 'line\nbreak', '\u0001', '😀', '__proto__'][
        Math.floor(rand() * 9)
      ];
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) {
        out[['runs', 'name', 'a b', 'é', ''][Math.floor(rand() * 5)] as string] = randomValue(
          rand,
          depth + 1,
        );
      }
      return out;
    }
  }
}

const ALPHABET = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'u',
  '0',
  '1',
  '-',
  '.',
  'e',
  ' ',
  '\n',
  't',
  'n',
  'x',
];

function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * (text.length + 1));
  const c = ALPHABET[Math.floor(rand() * ALPHABET.length)] as string;
  switch (Math.floor(rand() * 3)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + c + text.slice(at);
    default:
      return text.slice(0, at) + c + text.slice(at + 1);
  }
}

function ours(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJsonDocument(text, 'f.json').value };
  } catch (err) {
    expect((err as { code?: string }).code).toBe(RunconfigErrorCodes.Parse);
    expect((err as Error).message).toMatch(/^f\.json:\d+:\d+: /);
    return { ok: false };
  }
}

function native(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

describe('parseJsonDocument agrees with JSON.parse', () => {
  test('on 1500 random documents and 1500 mutations of them', () => {
    const rand = prng(20261201);
    for (let i = 0; i < 1500; i++) {
      const text = JSON.stringify(randomValue(rand, 0), null, rand() < 0.5 ? 2 : undefined);
      expect(ours(text)).toEqual(native(text));
      const broken = mutate(mutate(text, rand), rand);
      const [a, b] = [ours(broken), native(broken)];
      expect(a.ok, broken).toBe(b.ok);
      if (a.ok && b.ok) expect(a.value).toEqual(b.value);
    }
  });

  test('locates values and keys by path', () => {
    const doc = parseJsonDocument('{\n  "a": [1, {"b": true}],\n  "é": "x"\n}', 'f.json');
    expect(doc.locate(['a', 1, 'b'])).toEqual({ line: 2, column: 18 });
    expect(doc.locate(['a', 1, 'b'], { key: true })).toEqual({ line: 2, column: 13 });
    expect(doc.locate(['é'], { key: true })).toEqual({ line: 3, column: 3 });
    // A missing path gives its nearest existing parent.
    expect(doc.locate(['a', 1, 'missing'])).toEqual({ line: 2, column: 12 });
    expect(doc.locate([])).toEqual({ line: 1, column: 1 });
  });
});

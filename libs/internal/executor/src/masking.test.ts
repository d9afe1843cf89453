import { describe, expect, test } from 'vitest';
import { createSecretMasker, SECRET_MASK, type SecretMaskerOptions } from './masking.js';

/** Writes the chunks one by one and returns everything the masker passed on. */
async function mask(
  secrets: string[],
  chunks: (string | Buffer)[],
  options?: SecretMaskerOptions,
): Promise<string> {
  const m = createSecretMasker(secrets, options);
  const out: Buffer[] = [];
  m.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    m.on('end', resolve);
    m.on('error', reject);
  });
  for (const c of chunks) m.write(c);
  m.end();
  await done;
  return Buffer.concat(out).toString('utf8');
}

const M = SECRET_MASK;

describe('createSecretMasker', () => {
  test('masks every occurrence in plain output and leaves the rest byte for byte', async () => {
    expect(await mask(['hunter22'], ['login hunter22 ok; again:hunter22\n'])).toBe(
      `login ${M} ok; again:${M}\n`,
    );
    expect(await mask(['hunter22'], ['nothing to hide here\n'])).toBe('nothing to hide here\n');
  });

  test('masks a multi-line value as a whole, through a tty (CRLF), and line by line', async () => {
    const key = '-----BEGIN KEY-----\nAAAAsecretline1\nBBBBsecretline2\n-----END KEY-----';
    expect(await mask([key], [`key:\n${key}\ndone\n`])).toBe(`key:\n${M}\ndone\n`);
    const tty = key.replace(/\n/g, '\r\n');
    expect(await mask([key], [`key:\r\n${tty}\r\n`])).toBe(`key:\r\n${M}\r\n`);
    expect(await mask([key], ['line: BBBBsecretline2!\n'])).toBe(`line: ${M}!\n`);
  });

  test('an SSH key printed as an env var is masked (Woodpecker #388)', async () => {
    const key = [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACDHWlHYSHRWYfHLueNWtKWw2tM1bObyiAUZRbRvTm3SkQAAAJgWB0w/FgdM',
      '-----END OPENSSH PRIVATE KEY-----',
    ].join('\n');
    const out = await mask([key], [`DRONE_JOB_NUMBER=1\nSSH_KEY=${key}\nNEXT=1\n`]);
    expect(out).toBe(`DRONE_JOB_NUMBER=1\nSSH_KEY=${M}\nNEXT=1\n`);
    // One line of it alone, e.g. from `head -2`.
    const line = key.split('\n')[1]!;
    expect(await mask([key], [`${line}\n`])).toBe(`${M}\n`);
  });

  test('short lines of a multi-line value do not mask unrelated output (Woodpecker #7103)', async () => {
    const json = '{\n"foo": [\n"bar"\n]\n}';
    const log = '[{description,"Run PropEr test suites"},{vsn,"0.12.1"},{registered,[]}]\n';
    expect(await mask([json], [log])).toBe(log);
    expect(await mask([json], [`value: ${json}\n`])).toBe(`value: ${M}\n`);
    // A long enough line is still masked alone.
    expect(await mask([json], ['x "foo": [ y\n'])).toBe(`x ${M} y\n`);
  });

  test('masks a secret split at every byte boundary, and one byte at a time', async () => {
    const secret = 'pa55-wörd-ü'; // multi-byte UTF-8 characters as well
    const text = Buffer.from(`before ${secret} middle ${secret}after\n`);
    const expected = `before ${M} middle ${M}after\n`;
    for (let k = 0; k <= text.length; k++) {
      expect(await mask([secret], [text.subarray(0, k), text.subarray(k)])).toBe(expected);
    }
    for (let k = 1; k < text.length; k++) {
      for (const j of [k + 1, k + 3, k + 7]) {
        if (j >= text.length) continue;
        const chunks = [text.subarray(0, k), text.subarray(k, j), text.subarray(j)];
        expect(await mask([secret], chunks)).toBe(expected);
      }
    }
    const bytes = [...text].map((b) => Buffer.from([b]));
    expect(await mask([secret], bytes)).toBe(expected);
  });

  test('never lets a byte of a secret through while it might still complete', async () => {
    const m = createSecretMasker(['abcdef']);
    const out: string[] = [];
    m.on('data', (c: Buffer) => out.push(c.toString()));
    m.write('xx abc');
    await new Promise((r) => setImmediate(r));
    expect(out.join('')).toBe('xx '); // "abc" held back: it may be the start of the secret
    expect(m.maxHoldBack).toBe(5);
    m.write('dex');
    await new Promise((r) => setImmediate(r));
    expect(out.join('')).toBe('xx abcdex'); // not the secret after all
    m.end('abcde'); // held at the end, then flushed as it is
    await new Promise((r) => m.on('end', r));
    expect(out.join('')).toBe('xx abcdexabcde');
  });

  test('masks overlapping and nested secrets as one region, leaking no part of either', async () => {
    expect(await mask(['abcd', 'cdef'], ['x abcdef y'])).toBe(`x ${M} y`);
    expect(await mask(['secret', 'cret'], ['[secret] [cret]'])).toBe(`[${M}] [${M}]`);
    expect(await mask(['aaaa'], ['aaaaaa!'])).toBe(`${M}!`);
    expect(await mask(['1234', '5678'], ['12345678'])).toBe(M);
    const text = 'zz abcdef zz';
    for (let k = 0; k <= text.length; k++) {
      expect(await mask(['abcd', 'cdef'], [text.slice(0, k), text.slice(k)])).toBe(`zz ${M} zz`);
    }
  });

  test('ignores empty values and, by policy, values shorter than minLength', async () => {
    const m = createSecretMasker(['', 'ab', 'abcd']);
    expect(m.unmaskedCount).toBe(1);
    expect(await mask(['', 'ab'], ['ab cab'])).toBe('ab cab');
    expect(await mask(['ab'], ['ab cab'], { minLength: 2 })).toBe(`${M} c${M}`);
    expect(await mask([], ['no secrets\n'])).toBe('no secrets\n');
  });

  test('a long stream without secrets is passed on unchanged', async () => {
    const chunk = 'lorem ipsum dolor sit amet '.repeat(1000);
    expect(await mask(['not-there-123'], [chunk, chunk])).toBe(chunk + chunk);
  });

  test('any chunking gives the same output as masking the whole text at once (seeded random)', async () => {
    // A plain reference: mark every byte covered by any match, one mask per marked run.
    const reference = (secrets: string[], text: string) => {
      const marked = new Array<boolean>(text.length).fill(false);
      const runs: [number, number][] = [];
      // The needles the masker documents: each value, and for a multi-line value its CRLF
      // form and each of its lines.
      const needles = secrets.flatMap((v) =>
        v.includes('\n')
          ? [
              v,
              v.replace(/\n/g, '\r\n'),
              ...v
                .split('\n')
                .map((l) => l.trim())
                .filter((l) => l.length >= 8),
            ]
          : [v],
      );
      for (const s of needles.filter((v) => v.length >= 4)) {
        for (let at = text.indexOf(s); at >= 0; at = text.indexOf(s, at + 1))
          runs.push([at, at + s.length]);
      }
      for (const [a, b] of runs) for (let i = a; i < b; i++) marked[i] = true;
      let out = '';
      for (let i = 0; i < text.length; i++) {
        if (!marked[i]) out += text[i];
        // Runs that touch (end of one = start of another) are one mask.
        else if (i === 0 || (!marked[i - 1] && !runs.some(([, b]) => b === i))) out += M;
      }
      return out;
    };
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const word = (len: number) => Array.from({ length: len }, () => 'ab\n'[rand(3)]).join('');
    for (let round = 0; round < 300; round++) {
      const secrets = Array.from({ length: 1 + rand(3) }, () => word(4 + rand(4)));
      const text = word(10 + rand(60));
      const chunks: string[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + rand(6);
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      const expected = await mask(secrets, [text]);
      expect(await mask(secrets, chunks)).toBe(expected);
      expect(expected).toBe(reference(secrets, text));
    }
  });
});

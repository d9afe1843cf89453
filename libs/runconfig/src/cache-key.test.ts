import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunconfigErrorCodes } from './codes.js';
import { renderCacheKey } from './cache-key.js';

const dir = mkdtempSync(join(tmpdir(), 'cache-key-'));
writeFileSync(join(dir, 'go.sum'), 'hello\n');
writeFileSync(join(dir, 'big'), Buffer.alloc(1024 * 1024 + 1));
const fixed = {
  cwd: dir,
  now: () => new Date(2024, 0, 5, 10, 0, 0),
  os: 'linux',
  arch: 'amd64',
  env: { GOVERSION: '1.19' },
};

describe('renderCacheKey', () => {
  test('md5sum and sha256sum of a file relative to cwd', async () => {
    expect(await renderCacheKey('deps-{{ md5sum "go.sum" }}', fixed)).toBe(
      'deps-b1946ac92492d2347c6235b4d2611184',
    );
    expect(await renderCacheKey('{{sha256sum "go.sum"}}', fixed)).toBe(
      '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
    );
  });

  test('env, os, arch and the date functions', async () => {
    expect(
      await renderCacheKey(
        'go{{ env "GOVERSION" }}-{{ os }}-{{ arch }}-{{ year }}{{ month }}{{ day }}',
        fixed,
      ),
    ).toBe('go1.19-linux-amd64-20240105');
    expect(await renderCacheKey('{{ env "NOPE" }}x', fixed)).toBe('x');
  });

  test('unixtime is in nanoseconds', async () => {
    const now = new Date(1_700_000_000_123);
    expect(await renderCacheKey('{{ unixtime }}', { now: () => now })).toBe('1700000000123000000');
  });

  test('pipelines, raw strings, comments and trim markers', async () => {
    expect(await renderCacheKey('a-{{ "go.sum" | md5sum }}', fixed)).toBe(
      'a-b1946ac92492d2347c6235b4d2611184',
    );
    expect(await renderCacheKey('{{ md5sum `go.sum` }}', fixed)).toBe(
      'b1946ac92492d2347c6235b4d2611184',
    );
    expect(await renderCacheKey('a {{- /* note */ -}} b', fixed)).toBe('ab');
    expect(await renderCacheKey('plain-key', fixed)).toBe('plain-key');
  });

  test('a custom file reader (a container) is used for sums', async () => {
    const seen: string[] = [];
    const key = await renderCacheKey('{{ md5sum "x" }}', {
      cwd: '/work',
      readFile: async (p) => {
        seen.push(p);
        return new TextEncoder().encode('hello\n');
      },
    });
    expect(seen).toEqual(['/work/x']);
    expect(key).toBe('b1946ac92492d2347c6235b4d2611184');
  });

  test.each([
    ['{{ nope }}', /function "nope" not defined/],
    ['{{ md5sum }}', /md5sum takes 1 argument\(s\), got 0/],
    ['{{ os "x" }}', /os takes 0 argument\(s\), got 1/],
    ['{{ md5sum "go.sum"', /unclosed action/],
    ['{{ md5sum "go.sum }}', /unterminated string/],
    ['{{ md5sum "missing" }}', /reading "missing" for a cache key/],
    ['{{ md5sum "big" }}', /file ".*big" is too big/],
    ['{{ md5sum "" }}', /empty filename/],
    ['{{ | }}', /empty command/],
  ])('%s fails with ERR_RUNCONFIG_CACHE_KEY', async (template, message) => {
    await expect(renderCacheKey(template, fixed)).rejects.toMatchObject({
      code: RunconfigErrorCodes.CacheKey,
      message: expect.stringMatching(message),
    });
  });
});

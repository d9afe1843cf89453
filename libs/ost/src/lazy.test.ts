import { Readable } from 'node:stream';
import { is } from '@agola-ts/errors';
import { describe, expect, it } from 'vitest';
import { OstErrorCodes } from './codes.js';
import { createObjectStorage } from './config.js';
import { lazyStorage } from './lazy.js';
import { createMemoryStorage } from './memory/memory-storage.js';
import { readAll } from './streams.js';
import type { ObjectStorage } from './types.js';

describe('lazyStorage', () => {
  it('loads the driver once, on the first call, and delegates every method', async () => {
    let loads = 0;
    const inner = createMemoryStorage();
    const s = lazyStorage('memory', async () => {
      loads++;
      return inner;
    });
    expect(loads).toBe(0);
    await s.write('a/b', 'x');
    await s.write('a/c', Readable.from([Buffer.from('yz')]));
    expect((await readAll(await s.read('a/c'))).toString()).toBe('yz');
    expect((await s.stat('a/b')).size).toBe(1);
    const keys: string[] = [];
    for await (const info of s.list('a/')) keys.push(info.key);
    expect(keys).toEqual(['a/b', 'a/c']);
    await s.delete('a/b');
    expect(loads).toBe(1);
  });

  it('a driver whose package is not installed fails every call with ERR_OST_DRIVER_UNAVAILABLE', async () => {
    const missing = '@agola-ts/no-such-driver-package';
    const s = lazyStorage('test', () => import(missing) as Promise<ObjectStorage>);
    const source = Readable.from([Buffer.from('x')]);
    const err = await s.write('k', source).catch((e: unknown) => e);
    expect(is(err, OstErrorCodes.DriverUnavailable)).toBe(true);
    expect(source.destroyed).toBe(true);
    const listing = (async () => {
      for await (const _ of s.list('')) return;
    })();
    expect(is(await listing.catch((e: unknown) => e), OstErrorCodes.DriverUnavailable)).toBe(true);
  });
});

describe('createObjectStorage with an s3 config', () => {
  it('checks the config at once, before any driver is loaded', () => {
    const codeOf = (config: unknown) => {
      try {
        createObjectStorage(config as never);
      } catch (err) {
        return Object.values(OstErrorCodes).find((c) => is(err, c));
      }
      return undefined;
    };
    expect(codeOf({ type: 's3', bucket: 'b', basePath: '../x' })).toBe(OstErrorCodes.InvalidKey);
    expect(codeOf({ type: 's3', bucket: '' })).toBe(OstErrorCodes.InvalidConfig);
    expect(codeOf({ type: 's3', bucket: 'b', basePath: 'rundata/' })).toBeUndefined();
  });
});

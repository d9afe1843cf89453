import { afterEach, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { DataManagerErrorCodes, ostPaths } from '../src/index.js';
import { allKeys, del, fixture, put, storedWals, type Fixture, type OstKind } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe.each<[OstKind, number]>([
  ['posix', 65_536],
  ['posix', 0],
  ['s3', 65_536],
  ['s3', 0],
])('write and read (%s, inline wals up to %d bytes)', (kind, inlineWalMaxBytes) => {
  test('round trips across checkpoints, many data types, deletes before and after', async () => {
    fx = await fixture(kind);
    const dm = fx.dm({ inlineWalMaxBytes });
    await dm.start();
    await dm.write([
      put('user', 'u1', 'alice'),
      put('org', 'o1', 'acme'),
      put('project', 'p1', 'P'),
    ]);
    expect((await dm.read('user', 'u1')).toString()).toBe('alice');
    expect((await dm.read('org', 'o1')).toString()).toBe('acme');

    const cp1 = await dm.checkpoint({ force: true });
    expect(cp1?.status.files['user']).toHaveLength(1);
    expect((await dm.read('user', 'u1')).toString()).toBe('alice');

    await dm.write([put('user', 'u1', 'alice2'), put('user', 'u0', 'zero'), del('org', 'o1')]);
    // pending (not checkpointed) changes win over the snapshot, deletes included
    expect((await dm.read('user', 'u1')).toString()).toBe('alice2');
    expect(
      is(await dm.read('org', 'o1').catch((e: unknown) => e), DataManagerErrorCodes.NotExist),
    ).toBe(true);

    await dm.checkpoint({ force: true });
    expect((await dm.read('user', 'u0')).toString()).toBe('zero');
    expect((await dm.read('user', 'u1')).toString()).toBe('alice2');
    expect(
      is(await dm.read('org', 'o1').catch((e: unknown) => e), DataManagerErrorCodes.NotExist),
    ).toBe(true);
    expect(
      is(await dm.read('project', 'nope').catch((e: unknown) => e), DataManagerErrorCodes.NotExist),
    ).toBe(true);

    // a restarted instance (new process) reads the same
    await dm.stop();
    const dm2 = fx.dm({ inlineWalMaxBytes });
    await dm2.start();
    expect((await dm2.read('user', 'u1')).toString()).toBe('alice2');
    expect((await dm2.read('project', 'p1')).toString()).toBe('P');
  });

  test('everything is stored under the base path, in Agola layout', async () => {
    fx = await fixture(kind);
    const dm = fx.dm({ inlineWalMaxBytes });
    await dm.start();
    const { walSequence } = await dm.write([put('user', 'u1', 'x')]);
    await dm.checkpoint({ force: true });
    const keys = await allKeys(fx.ost);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k.startsWith('configdata/')).toBe(true);
    // the wal went to the storage in a sync batch (ours, named by its last wal); a small wal
    // was committed inline in etcd and its data is in the batch, a larger one wrote its data
    // file before the commit; etcd dropped the inline copy
    expect(keys).toContain(`configdata/${ostPaths.walBatch(walSequence)}`);
    const stored = (await storedWals(fx.ost)).get(walSequence)!;
    expect(stored.in).toBe(`configdata/${ostPaths.walBatch(walSequence)}`);
    if (inlineWalMaxBytes > 0) {
      expect(Buffer.from(stored.Data!, 'base64').toString()).toContain('"ID":"u1"');
      expect(keys).not.toContain(`configdata/${ostPaths.walData(stored.WalDataFileID)}`);
    } else {
      expect(stored.Data).toBeUndefined();
      expect(keys).toContain(`configdata/${ostPaths.walData(stored.WalDataFileID)}`);
    }
    const { kv } = await fx.etcd.get(`datamanager/wals/${walSequence}`);
    expect(JSON.parse(kv!.value.toString())).not.toHaveProperty('InlineData');
    expect(keys.some((k) => /^configdata\/data\/[0-9a-v]{13}-[0-9a-v]{13}\.status$/.test(k))).toBe(
      true,
    );
    expect(
      keys.some((k) =>
        /^configdata\/data\/user\/[0-9a-v]{13}-[0-9a-v]{13}-[0-9a-f-]{36}\.data$/.test(k),
      ),
    ).toBe(true);
    expect(keys.some((k) => /^configdata\/data\/user\/.*\.index$/.test(k))).toBe(true);
  });
});

describe('write validation', () => {
  test('bad actions and change groups are refused before anything is stored', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    const before = await allKeys(fx.ost);
    const cases: Array<[unknown[], string]> = [
      [[], 'a write needs at least one action'],
      [
        [{ actionType: 'upsert', dataType: 'user', id: 'a' }],
        'action 0: unknown action type "upsert"',
      ],
      [[put('nope', 'a', 'x')], 'action 0: unknown data type "nope"'],
      [[put('user', '', 'x')], 'action 0: id must be 1 to 1024 characters'],
    ];
    for (const [actions, message] of cases) {
      const err = await dm.write(actions as never).catch((e: unknown) => e);
      expect(is(err, DataManagerErrorCodes.InvalidAction)).toBe(true);
      expect((err as Error).message).toBe(message);
    }
    const err = await dm
      .write([put('user', 'a', 'x')], { curRevision: 0n, changeGroupsRevisions: { 'a/b': 0n } })
      .catch((e: unknown) => e);
    expect(is(err, DataManagerErrorCodes.InvalidChangeGroup)).toBe(true);
    expect((err as Error).message).toBe('change group name "a/b" contains "/"');
    expect(await allKeys(fx.ost)).toEqual(before);
  });

  test('calls before start are refused', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await expect(dm.read('user', 'x')).rejects.toMatchObject({
      code: DataManagerErrorCodes.NotStarted,
    });
  });

  test('invalid options are refused', async () => {
    fx = await fixture();
    expect(() => fx!.dm({ basePath: '' })).toThrow('basePath must not be empty');
    expect(() => fx!.dm({ dataTypes: [] })).toThrow('dataTypes must not be empty');
    expect(() => fx!.dm({ dataTypes: ['a/b'] })).toThrow('data type "a/b" must match');
    expect(() => fx!.dm({ maxDataFileSize: 0 })).toThrow(
      'maxDataFileSize must be a positive number',
    );
  });
});

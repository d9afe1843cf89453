import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { createMemorySink, DataManagerErrorCodes } from '../src/index.js';
import { allKeys, eventually, fixture, put, type Fixture } from './helpers.js';

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});
async function fx(kind: 'posix' | 's3' = 'posix') {
  const f = await fixture(kind);
  fixtures.push(f);
  return f;
}

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

const entry = (dataType: string, id: string, data: string) =>
  JSON.stringify({ id, data_type: dataType, data: Buffer.from(data).toString('base64') });

describe('export / import', () => {
  test('export -> import into a fresh store: a follower of the new store equals the source', async () => {
    const src = await fx();
    const dm = src.dm({ maxDataFileSize: 2048 });
    await dm.start();
    for (let i = 0; i < 60; i++) {
      await dm.write([
        put(
          i % 2 ? 'org' : 'user',
          `id${String(i).padStart(3, '0')}`,
          `value-${i}-${'x'.repeat(80)}`,
        ),
      ]);
    }
    await dm.write([{ actionType: 'delete', dataType: 'user', id: 'id000' }]);
    const exported = await collect(await dm.export());
    const lines = exported
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; data_type: string });
    // grouped by type in the configured order (user, org, project), ids sorted
    expect(lines.map((l) => l.data_type)).toEqual([
      ...Array(29).fill('user'),
      ...Array(30).fill('org'),
    ]);
    const userIds = lines.filter((l) => l.data_type === 'user').map((l) => l.id);
    expect(userIds).toEqual([...userIds].sort());
    expect(userIds).not.toContain('id000');

    const dst = await fx('s3');
    const maint = dst.dm({ maintenanceMode: true });
    await maint.start();
    const result = await maint.import(Readable.from([exported]));
    expect(result.entries).toEqual({ user: 29, org: 30 });
    await maint.stop();

    const normal = dst.dm();
    await normal.start();
    const sink = createMemorySink();
    const ac = new AbortController();
    const following = normal.follow(sink, { signal: ac.signal });
    await eventually(() => sink.entries.get('org')?.size === 30);
    for (const l of lines) {
      expect(sink.get(l.data_type, l.id)?.toString()).toBe(
        (await dm.read(l.data_type, l.id)).toString(),
      );
      expect((await normal.read(l.data_type, l.id)).toString()).toBe(
        (await dm.read(l.data_type, l.id)).toString(),
      );
    }
    expect(sink.entries.get('user')?.size).toBe(29);
    // the imported store takes writes
    await normal.write([put('user', 'new', 'n')]);
    await eventually(() => sink.get('user', 'new')?.toString() === 'n');
    ac.abort();
    await following;
  });

  test('an Agola export (entries back to back, no newlines) imports', async () => {
    const dst = await fx();
    const dm = dst.dm({ maintenanceMode: true });
    await dm.start();
    const stream = entry('user', 'a', 'A') + entry('user', 'b', 'B') + entry('org', 'o', 'O');
    // fed in tiny chunks: entries span chunk boundaries
    const chunks = stream.match(/.{1,7}/gs)!;
    await dm.import(Readable.from(chunks));
    await dm.stop();
    const normal = dst.dm();
    await normal.start();
    expect((await normal.read('user', 'b')).toString()).toBe('B');
    expect((await normal.read('org', 'o')).toString()).toBe('O');
  });

  test.each([
    [
      'unsorted ids',
      entry('user', 'b', '') + entry('user', 'a', ''),
      'invalid import: user ids are not sorted: "a" after "b"',
    ],
    [
      'duplicate ids',
      entry('user', 'a', '') + entry('user', 'a', ''),
      'invalid import: duplicate user id "a"',
    ],
    [
      'types not grouped',
      entry('user', 'a', '') + entry('org', 'o', '') + entry('user', 'b', ''),
      'invalid import: entries of data type "user" are not grouped together',
    ],
    ['an unknown data type', entry('runs', 'r', ''), 'invalid import: unknown data type "runs"'],
    [
      'a truncated stream',
      entry('user', 'a', '') + '{"id":"b","data_type":"us',
      'invalid import: import stream: truncated JSON object',
    ],
    ['garbage', 'not json at all', 'invalid import: import stream: unexpected byte at offset 0'],
  ])('a stream with %s is rejected and changes nothing', async (_name, stream, message) => {
    const f = await fx();
    const dm = f.dm();
    await dm.start();
    await dm.write([put('user', 'keep', 'me')]);
    await dm.checkpoint({ force: true });
    await dm.stop();
    const before = await allKeys(f.ost);
    const etcdBefore = (await f.etcd.list('datamanager/', { keysOnly: true })).kvs
      .map((kv) => kv.key)
      .filter((k) => !/lock\//.test(k));

    const maint = f.dm({ maintenanceMode: true });
    await maint.start();
    const err = await maint.import(Readable.from([stream])).catch((e: unknown) => e);
    expect(is(err, DataManagerErrorCodes.InvalidImport)).toBe(true);
    expect((err as Error).message.startsWith(message)).toBe(true);
    await maint.stop();
    expect(await allKeys(f.ost)).toEqual(before);
    expect(
      (await f.etcd.list('datamanager/', { keysOnly: true })).kvs
        .map((kv) => kv.key)
        .filter((k) => !/lock\//.test(k)),
    ).toEqual(etcdBefore);
    const again = f.dm();
    await again.start();
    expect((await again.read('user', 'keep')).toString()).toBe('me');
  });

  test('import outside maintenance mode is refused', async () => {
    const f = await fx();
    const dm = f.dm();
    await dm.start();
    const err = await dm.import(Readable.from([entry('user', 'a', '')])).catch((e: unknown) => e);
    expect(is(err, DataManagerErrorCodes.NotInMaintenance)).toBe(true);
    expect((err as Error).message).toBe('import is only allowed in maintenance mode');
  });

  test('in maintenance mode reads and writes are refused', async () => {
    const f = await fx();
    const dm = f.dm({ maintenanceMode: true });
    await dm.start();
    await expect(dm.read('user', 'a')).rejects.toThrow(
      'datamanager is in maintenance mode: read is not available',
    );
    await expect(dm.write([put('user', 'a', '')])).rejects.toThrow('maintenance mode: write');
  });
});

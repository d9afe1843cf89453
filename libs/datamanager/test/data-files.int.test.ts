import { afterEach, describe, expect, test } from 'vitest';
import { readObject } from '../src/ost-io.js';
import { ostPaths } from '../src/index.js';
import { allKeys, fixture, put, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const id = (n: number) => `id${String(n).padStart(5, '0')}`;

describe('data files', () => {
  test('split at maxDataFileSize; changing one entry rewrites one file', async () => {
    fx = await fixture();
    const dm = fx.dm({ maxDataFileSize: 10 * 1024 });
    await dm.start();
    const value = 'x'.repeat(400);
    // 200 entries of ~560 bytes (base64 + JSON) in batches of 20
    for (let b = 0; b < 10; b++) {
      await dm.write(
        Array.from({ length: 20 }, (_, i) => put('user', id(b * 20 + i), `${value}${b * 20 + i}`)),
      );
    }
    const first = (await dm.checkpoint({ force: true }))!;
    const files = first.status.files['user']!;
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const { size } = await fx.ost.stat(`configdata/${ostPaths.dataFile('user', f.id)}`);
      expect(size).toBeLessThanOrEqual(10 * 1024);
    }
    // files are ordered and cover every id
    expect(files.map((f) => f.lastEntryId)).toEqual([...files.map((f) => f.lastEntryId)].sort());
    expect(files[files.length - 1]!.lastEntryId).toBe(id(199));

    await dm.write([put('user', id(57), 'changed')]);
    const second = (await dm.checkpoint({ force: true }))!;
    expect(second.filesWritten).toBe(1);
    const after = second.status.files['user']!;
    expect(after).toHaveLength(files.length);
    const changed = after.filter((f, i) => f.id !== files[i]!.id);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.lastEntryId >= id(57)).toBe(true);
    expect((await dm.read('user', id(57))).toString()).toBe('changed');
    expect((await dm.read('user', id(58))).toString()).toBe(`${value}58`);
    for (let i = 0; i < 200; i += 13) {
      expect((await dm.read('user', id(i))).toString()).toBe(i === 57 ? 'changed' : `${value}${i}`);
    }
  });

  test('an entry larger than the limit gets a file of its own', async () => {
    fx = await fixture();
    const dm = fx.dm({ maxDataFileSize: 4 * 1024 });
    await dm.start();
    await dm.write([
      put('user', 'a', 'small'),
      put('user', 'b', 'B'.repeat(10_000)),
      put('user', 'c', 'small'),
    ]);
    const cp = (await dm.checkpoint({ force: true }))!;
    expect(cp.status.files['user']!.map((f) => f.lastEntryId)).toEqual(['a', 'b', 'c']);
    expect((await dm.read('user', 'b')).toString()).toBe('B'.repeat(10_000));
  });

  test('deleting every entry of a file drops it; untouched types keep their files', async () => {
    fx = await fixture();
    const dm = fx.dm({ maxDataFileSize: 1024 });
    await dm.start();
    await dm.write([
      put('org', 'o1', 'x'.repeat(900)),
      put('org', 'o2', 'y'.repeat(900)),
      put('project', 'p', 'P'),
    ]);
    const first = (await dm.checkpoint({ force: true }))!;
    expect(first.status.files['org']).toHaveLength(2);
    await dm.write([{ actionType: 'delete', dataType: 'org', id: 'o1' }]);
    const second = (await dm.checkpoint({ force: true }))!;
    expect(second.status.files['org']!.map((f) => f.lastEntryId)).toEqual(['o2']);
    expect(second.status.files['project']).toEqual(first.status.files['project']);
  });

  test('data files are in Agola format: newline-separated entries, JSON index of offsets', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    await dm.write([put('user', 'u1', 'alice'), put('user', 'u2', 'bob')]);
    const cp = (await dm.checkpoint({ force: true }))!;
    const fileId = cp.status.files['user']![0]!.id;
    const data = (
      await readObject(fx.ost, `configdata/${ostPaths.dataFile('user', fileId)}`)
    ).toString();
    const lines = data.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { id: 'u1', data_type: 'user', data: Buffer.from('alice').toString('base64') },
      { id: 'u2', data_type: 'user', data: Buffer.from('bob').toString('base64') },
    ]);
    const index = JSON.parse(
      (await readObject(fx.ost, `configdata/${ostPaths.dataIndex('user', fileId)}`)).toString(),
    ) as unknown;
    expect(index).toEqual({ index: { u1: 0, u2: lines[0]!.length + 1 } });
    const status = JSON.parse(
      (
        await readObject(fx.ost, `configdata/${ostPaths.dataStatus(cp.status.dataSequence)}`)
      ).toString(),
    ) as Record<string, unknown>;
    expect(Object.keys(status).sort()).toEqual(['data_sequence', 'files', 'wal_sequence']);
    expect((await allKeys(fx.ost, 'configdata/wals/data/')).length).toBeGreaterThan(0);
  });

  test('reads data written by Agola: entries back to back without newlines', async () => {
    fx = await fixture();
    // An Agola v0.7 store: one snapshot, no wals after it.
    const e1 = JSON.stringify({
      id: 'a',
      data_type: 'user',
      data: Buffer.from('A').toString('base64'),
    });
    const e2 = JSON.stringify({
      id: 'b',
      data_type: 'user',
      data: Buffer.from('B').toString('base64'),
    });
    const seq = '0000000000001-0000000000001';
    const fileId = `${seq}-11111111-2222-3333-4444-555555555555`;
    await fx.ost.write(`configdata/data/user/${fileId}.data`, e1 + e2);
    await fx.ost.write(
      `configdata/data/user/${fileId}.index`,
      JSON.stringify({ index: { a: 0, b: e1.length } }),
    );
    await fx.ost.write(
      `configdata/data/${seq}.status`,
      JSON.stringify({
        data_sequence: seq,
        wal_sequence: '',
        files: { user: [{ id: fileId, last_entry_id: 'b' }] },
      }),
    );
    const dm = fx.dm();
    await dm.start();
    expect((await dm.read('user', 'a')).toString()).toBe('A');
    expect((await dm.read('user', 'b')).toString()).toBe('B');
    // and a checkpoint merges into it
    await dm.write([put('user', 'c', 'C')]);
    await dm.checkpoint({ force: true });
    expect((await dm.read('user', 'a')).toString()).toBe('A');
    expect((await dm.read('user', 'c')).toString()).toBe('C');
  });
});

import { afterEach, describe, expect, test } from 'vitest';
import { readObject } from '../src/ost-io.js';
import { is } from '@agola-ts/errors';
import { DataManagerErrorCodes, ostPaths } from '../src/index.js';
import { allKeys, fixture, put, storedWals, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const statusSeqs = (keys: string[]) =>
  keys
    .filter((k) => /^configdata\/data\/[^/]+\.status$/.test(k))
    .map((k) => k.slice('configdata/data/'.length, -'.status'.length));

describe('cleaners', () => {
  test('never delete what a reader still needs', async () => {
    fx = await fixture();
    const dm = fx.dm({ etcdWalsKeepNum: 3, maxDataFileSize: 2048 });
    await dm.start();
    const expected = new Map<string, string>();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5; i++) {
        const id = `u${(round * 3 + i) % 12}`;
        const value = `r${round}-${i}-${'x'.repeat(300)}`;
        await dm.write([put('user', id, value)]);
        expected.set(id, value);
      }
      await dm.checkpoint({ force: true });
      await dm.clean();
    }
    const keys = await allKeys(fx.ost);

    // 3 snapshots kept, and every file they name exists
    const seqs = statusSeqs(keys);
    expect(seqs).toHaveLength(3);
    for (const seq of seqs) {
      const status = JSON.parse(
        (await readObject(fx.ost, `configdata/${ostPaths.dataStatus(seq)}`)).toString(),
      ) as {
        wal_sequence: string;
        files: Record<string, Array<{ id: string }>>;
      };
      for (const [type, files] of Object.entries(status.files)) {
        for (const f of files) {
          expect(keys).toContain(`configdata/${ostPaths.dataFile(type, f.id)}`);
          expect(keys).toContain(`configdata/${ostPaths.dataIndex(type, f.id)}`);
        }
      }
    }
    // no data file that no kept snapshot names
    const named = new Set<string>();
    for (const seq of seqs) {
      const status = JSON.parse(
        (await readObject(fx.ost, `configdata/${ostPaths.dataStatus(seq)}`)).toString(),
      ) as {
        files: Record<string, Array<{ id: string }>>;
      };
      for (const [type, files] of Object.entries(status.files))
        for (const f of files) named.add(`${type}/${f.id}`);
    }
    const dataFiles = keys
      .filter((k) => k.endsWith('.data'))
      .map((k) => k.slice('configdata/data/'.length, -5));
    expect(dataFiles.sort()).toEqual([...named].sort());

    // a reader starting from the OLDEST kept snapshot can still replay every wal after it
    const oldest = JSON.parse(
      (await readObject(fx.ost, `configdata/${ostPaths.dataStatus(seqs[0]!)}`)).toString(),
    ) as {
      wal_sequence: string;
    };
    const stored = await storedWals(fx.ost);
    const headers = [...stored.keys()];
    expect(headers[0]! <= oldest.wal_sequence).toBe(true);
    let prev: string | undefined;
    for (const [seq, header] of stored) {
      if (prev !== undefined) expect(header.PreviousWalSequence).toBe(prev);
      // its data: in its batch (inline wals) or its own file
      if (header.Data === undefined)
        expect(keys).toContain(`configdata/${ostPaths.walData(header.WalDataFileID)}`);
      prev = seq;
    }
    // etcd keeps its last wals, all checkpointed ones beyond the limit gone
    const { kvs } = await fx.etcd.list('datamanager/wals/');
    expect(kvs.length).toBeLessThanOrEqual(3);

    // and every value still reads right, on this instance and a new one
    const dm2 = fx.dm();
    await dm2.start();
    for (const [id, value] of expected) {
      expect((await dm.read('user', id)).toString()).toBe(value);
      expect((await dm2.read('user', id)).toString()).toBe(value);
    }
  });

  test('wals not checkpointed are never cleaned from etcd', async () => {
    fx = await fixture();
    const dm = fx.dm({ etcdWalsKeepNum: 2 });
    await dm.start();
    const seqs: string[] = [];
    for (let i = 0; i < 6; i++)
      seqs.push((await dm.write([put('user', `u${i}`, 'v')])).walSequence);
    await dm.clean();
    // only the (checkpointed) init wal may go: the six written wals are not checkpointed yet
    const { kvs } = await fx.etcd.list('datamanager/wals/');
    expect(kvs.map((kv) => kv.key.slice('datamanager/wals/'.length))).toEqual(seqs);
    await dm.checkpoint({ force: true });
    await dm.clean();
    expect((await fx.etcd.list('datamanager/wals/')).kvs.length).toBe(2);
  });

  test('change groups not updated within the range are compacted', async () => {
    fx = await fixture();
    const dm = fx.dm({ changeGroupsRevisionRange: 10, intervals: { compactChangeGroups: 20 } });
    await dm.start();
    await dm.write([put('user', 'a', '')], dm.changeGroupsToken(['old-group']));
    for (let i = 0; i < 15; i++) await dm.write([put('user', `b${i}`, '')]);
    // with a range this small, a token can age out before it is used: retry as callers do
    for (let attempt = 0; ; attempt++) {
      try {
        await dm.write([put('user', 'c', '')], dm.changeGroupsToken(['new-group']));
        break;
      } catch (err) {
        if (!is(err, DataManagerErrorCodes.Concurrency) || attempt > 20) throw err;
      }
    }
    const deadline = Date.now() + 5000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await fx.etcd.list('datamanager/changegroups/')).kvs.map((kv) => kv.key);
      if (!names.includes('datamanager/changegroups/old-group')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(names).toEqual(['datamanager/changegroups/new-group']);
  });
});

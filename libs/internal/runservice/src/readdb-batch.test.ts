import type { Action } from '@agola-ts/datamanager';
import { createSqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { openDb, type Db } from '@agola-ts/db';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATA_TYPES,
  applyAction,
  applyActions,
  decodingSink,
  distinctRuns,
  migrateReadDb,
  resetReadDb,
} from './readdb.js';

type A = Action & { data: Buffer };

const dbs: Db[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((d) => d.close()));
});

/** A small seeded PRNG (mulberry32): a failing seed can be replayed. */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random entity of `dataType` from small pools (groups with and without a trailing `/`). */
function entity(rnd: () => number, dataType: string): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  switch (dataType) {
    case 'run':
      return {
        id: 'x',
        name: 'r',
        group: pick(['/project/p1', '/project/p1/', '/project/p2/branch/main', '/user/u1']),
        counter: Math.floor(rnd() * 5),
        phase: pick(['queued', 'running', 'finished']),
        result: pick(['unknown', 'success', 'failed']),
        tasks: {},
        archived: true,
      };
    case 'runconfig':
      return { id: 'x', name: pick(['a', 'b']), tasks: {} };
    default:
      return Math.floor(rnd() * 100);
  }
}

/** A random sequence of puts and deletes of every data type (and one unknown type). */
function actions(rnd: () => number, n: number): A[] {
  const types = [...DATA_TYPES, 'unknown'];
  return Array.from({ length: n }, () => {
    const dataType = types[Math.floor(rnd() * types.length)]!;
    const id = `id${Math.floor(rnd() * 6)}`;
    if (rnd() < 0.25) return { actionType: 'delete', dataType, id, data: Buffer.alloc(0) } as A;
    return {
      actionType: 'put',
      dataType,
      id,
      data: Buffer.from(JSON.stringify(entity(rnd, dataType))),
    } as A;
  });
}

async function freshDb(): Promise<Db> {
  const db = await openDb(':memory:');
  dbs.push(db);
  await migrateReadDb(db);
  return db;
}

/** Every row of every readdb table, in a stable order. */
async function dump(db: Db): Promise<Record<string, unknown[]>> {
  return db.do(
    async (tx) => {
      const tables = await tx.all<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name != 'dbversion' order by name",
      );
      const out: Record<string, unknown[]> = {};
      for (const { name } of tables) {
        const cols = await tx.all<{ name: string }>(
          `select name from pragma_table_info('${name}')`,
        );
        out[name] = await tx.all(
          `select * from "${name}" order by ${cols.map((c) => `"${c.name}"`).join(', ')}`,
        );
      }
      return out;
    },
    { readonly: true },
  );
}

describe('runservice readdb: batch apply', () => {
  it('gives the rows of applying each action in turn, for random actions cut in random batches', async () => {
    let nonEmpty = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      const seq = actions(rnd, 150);
      const one = await freshDb();
      const batch = await freshDb();
      for (let i = 0; i < seq.length;) {
        const txEnd = Math.min(seq.length, i + 1 + Math.floor(rnd() * 60));
        const part = seq.slice(i, txEnd);
        await one.do(async (tx) => {
          for (const a of part) await applyAction(tx, a);
        });
        await batch.do(async (tx) => {
          for (let j = 0; j < part.length;) {
            const end = Math.min(part.length, j + 1 + Math.floor(rnd() * 40));
            await applyActions(tx, part.slice(j, end));
            j = end;
          }
        });
        i = txEnd;
      }
      const expected = await dump(one);
      expect(await dump(batch), `seed ${seed}`).toEqual(expected);
      if (
        (expected['run_ost']?.length ?? 0) > 0 &&
        (expected['runconfig_ost']?.length ?? 0) > 0 &&
        (expected['runcounter_ost']?.length ?? 0) > 0
      )
        nonEmpty++;
    }
    // the comparison is not vacuous: most runs end with rows in every table
    expect(nonEmpty).toBeGreaterThan(20);
  });

  it('cuts a batch where an entry repeats', () => {
    const a = (dataType: string, id: string) =>
      ({ actionType: 'delete', dataType, id, data: Buffer.alloc(0) }) as A;
    const runs = distinctRuns([a('run', '1'), a('runconfig', '1'), a('run', '1')]);
    expect(runs.map((r) => r.map((x) => `${x.dataType}/${x.id}`))).toEqual([
      ['run/1', 'runconfig/1'],
      ['run/1'],
    ]);
  });

  it('fails the sink call of an unreadable put itself with decodingSink, and applies the rest', async () => {
    const db = await freshDb();
    const sqliteSink = createSqliteSink({
      db,
      apply: applyAction,
      applyBatch: applyActions,
      reset: resetReadDb,
    });
    await sqliteSink.init();
    const put = (id: string, data: string) =>
      ({ actionType: 'put', dataType: 'run', id, data: Buffer.from(data) }) as A;
    const good = JSON.stringify({
      group: '/project/p1',
      counter: 1,
      phase: 'finished',
      result: 'success',
    });
    // without the wrapper the bad put is only gathered: the call itself resolves
    let gathered = false;
    await expect(
      sqliteSink.transaction(async (tx) => {
        await tx.applyAction(put('bad', '{'), 'w1');
        gathered = true;
      }),
    ).rejects.toThrow();
    expect(gathered).toBe(true);
    // with it, the call of the bad put fails (the follower names that entry)
    const sink = decodingSink(sqliteSink);
    let failedAt = '';
    await sink.transaction(async (tx) => {
      for (const [id, data] of [
        ['a', good],
        ['bad', '{'],
        ['b', good],
      ] as const) {
        try {
          await tx.applyAction(put(id, data), 'w1');
        } catch {
          failedAt = id;
        }
      }
      await tx.setPosition({ walSequence: 'w1', revision: 1n });
    });
    expect(failedAt).toBe('bad');
    const ids = await db.do((tx) => tx.all<{ id: string }>('select id from run_ost order by id'), {
      readonly: true,
    });
    expect(ids.map((r) => r.id)).toEqual(['a', 'b']);
  });
});

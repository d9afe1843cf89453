import { stat } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from '../src/codes.js';
import { openDb, type Db, type OpenDbOptions } from '../src/db.js';
import { gate, tempDbPath } from './helpers.js';

async function withDb<T>(
  fn: (db: Db) => Promise<T>,
  options: OpenDbOptions = { readConnections: 1 },
): Promise<T> {
  const db = await openDb(await tempDbPath(), options);
  try {
    await db.do((tx) =>
      tx.execScript(
        "create table t (id integer primary key, name text not null unique); insert into t values (1, 'a'), (2, 'b'), (3, 'c');",
      ),
    );
    return await fn(db);
  } finally {
    await db.close();
  }
}

const read = <T>(db: Db, fn: Parameters<Db['do']>[0]) =>
  db.do(fn, { readonly: true }) as Promise<T>;

describe('prepared-statement cache', () => {
  test('a statement run again reuses its prepared statement', async () => {
    await withDb(async (db) => {
      const before = db.stats().statementCache;
      for (let i = 1; i <= 3; i++) {
        const row = await read<{ name: string } | undefined>(db, (tx) =>
          tx.get('select name from t where id = ?', [i]),
        );
        expect(row?.name).toBe(['a', 'b', 'c'][i - 1]);
      }
      const after = db.stats().statementCache;
      // BEGIN, the select and COMMIT are prepared once, then reused twice each
      expect(after.misses - before.misses).toBe(3);
      expect(after.hits - before.hits).toBe(6);
    });
  });

  test('get resets its statement: the next get starts from the first row again', async () => {
    await withDb(async (db) => {
      const names = await read<unknown[]>(db, async (tx) => [
        (await tx.get<{ name: string }>('select name from t order by id'))?.name,
        (await tx.get<{ name: string }>('select name from t order by id'))?.name,
      ]);
      expect(names).toEqual(['a', 'a']);
    });
  });

  test('a get leaves no stale snapshot on its connection', async () => {
    await withDb(async (db) => {
      const names = () =>
        db.do((tx) => tx.get<{ n: number }>('select count(*) as n, name from t order by id'), {
          readonly: true,
        });
      const first = await db.do(
        (tx) => tx.get<{ name: string }>('select name from t order by id'),
        {
          readonly: true,
          autocommit: true,
        },
      );
      expect(first?.name).toBe('a');
      await db.do((tx) => tx.exec("insert into t values (4, 'd')"));
      const second = await db.do(
        (tx) => tx.all<{ name: string }>('select name from t order by id'),
        { readonly: true, autocommit: true },
      );
      expect(second.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
      expect((await names())?.n).toBe(4);
    });
  });

  test('a statement with placeholders never reuses the bindings of an earlier call', async () => {
    await withDb(async (db) => {
      const values = await read<unknown[]>(db, async (tx) => [
        await tx.all('select ? as v', ['secret']),
        await tx.all('select ? as v'),
      ]);
      expect(values).toEqual([[{ v: 'secret' }], [{ v: null }]]);
    });
  });

  test('least recently used statements are evicted beyond the bound, results stay right', async () => {
    await withDb(
      async (db) => {
        const base = db.stats().statementCache;
        const names: string[] = [];
        await db.do(async (tx) => {
          for (const id of [1, 2, 3, 1, 2, 3]) {
            const row = await tx.get<{ name: string }>(`select name from t where id = ${id}`);
            names.push(row?.name ?? '');
          }
        });
        expect(names).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
        const s = db.stats().statementCache;
        // three selects in turn through a cache of two: each is evicted before its next use
        expect(s.misses - base.misses).toBeGreaterThanOrEqual(6);
        expect(s.evictions - base.evictions).toBeGreaterThanOrEqual(4);
        // two connections (writer and one reader), at most two statements each
        expect(s.size).toBeLessThanOrEqual(4);
      },
      { readConnections: 1, statementCacheSize: 2 },
    );
  });

  test('statementCacheSize 0 prepares every statement anew', async () => {
    await withDb(
      async (db) => {
        await read(db, (tx) => tx.get('select name from t where id = ?', [1]));
        await read(db, (tx) => tx.get('select name from t where id = ?', [1]));
        expect(db.stats().statementCache).toEqual({ size: 0, hits: 0, misses: 0, evictions: 0 });
      },
      { readConnections: 1, statementCacheSize: 0 },
    );
  });

  test('a schema change drops the cached statements of every connection', async () => {
    await withDb(async (db) => {
      const star = () =>
        read<Array<Record<string, unknown>>>(db, (tx) => tx.all('select * from t where id = 1'));
      expect(await star()).toEqual([{ id: 1, name: 'a' }]);
      const cachedBefore = db.stats().statementCache;
      expect(cachedBefore.size).toBeGreaterThan(0);
      await db.do((tx) => tx.execScript("alter table t add column extra text default 'x'"));
      // the writer's cache was emptied by the script
      expect(db.stats().statementCache.evictions).toBeGreaterThan(cachedBefore.evictions);
      expect(await star()).toEqual([{ id: 1, name: 'a', extra: 'x' }]);
      // dropped and created again with other columns: the same text, another table
      await db.do(async (tx) => {
        await tx.exec('drop table t');
        await tx.exec('create table t (id integer primary key, other integer)');
        await tx.exec('insert into t values (1, 42)');
      });
      expect(await star()).toEqual([{ id: 1, other: 42 }]);
    });
  });

  test('a failed statement leaves the cache and works again with other values', async () => {
    await withDb(async (db) => {
      const insert = (id: number, name: string) =>
        db.do((tx) => tx.exec('insert into t (id, name) values (?, ?)', [id, name]));
      await expect(insert(10, 'a')).rejects.toMatchObject({ code: DbErrorCodes.Constraint });
      const evictions = db.stats().statementCache.evictions;
      expect(evictions).toBeGreaterThan(0);
      await insert(10, 'z');
      expect(
        (await read<{ name: string }>(db, (tx) => tx.get('select name from t where id = 10')))
          ?.name,
      ).toBe('z');
    });
  });

  test('close finalizes every cached statement (sqlite refuses to close otherwise)', async () => {
    const db = await openDb(await tempDbPath(), { readConnections: 2 });
    await db.do((tx) => tx.execScript('create table t (id integer primary key)'));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.do((tx) => tx.get('select id from t where id = ?', [i]), { readonly: true }),
      ),
    );
    expect(db.stats().statementCache.size).toBeGreaterThan(0);
    await db.close();
    expect(db.stats().statementCache.size).toBe(0);
  });
});

describe('autocommit reads', () => {
  test('each statement sees the latest commit, where a transaction keeps its snapshot', async () => {
    await withDb(async (db) => {
      const counts = async (autocommit: boolean) => {
        const between = gate();
        const seen = db.do(
          async (tx) => {
            const n = async () => (await tx.get<{ n: number }>('select count(*) as n from t'))?.n;
            const first = await n();
            await between.wait;
            return [first, await n()];
          },
          { readonly: true, autocommit },
        );
        await new Promise((r) => setTimeout(r, 20));
        await db.do((tx) => tx.exec('insert into t (name) values (?)', [`n${String(autocommit)}`]));
        between.open();
        return seen;
      };
      expect(await counts(false)).toEqual([3, 3]);
      expect(await counts(true)).toEqual([4, 5]);
    });
  });

  test('writes fail and autocommit without readonly is refused', async () => {
    await withDb(async (db) => {
      await expect(
        db.do((tx) => tx.exec("insert into t (name) values ('x')"), {
          readonly: true,
          autocommit: true,
        }),
      ).rejects.toMatchObject({ code: DbErrorCodes.Readonly });
      await expect(db.do((tx) => tx.get('select 1'), { autocommit: true })).rejects.toMatchObject({
        code: DbErrorCodes.InvalidArgument,
      });
    });
  });

  test('an in-memory database runs autocommit reads on its single connection', async () => {
    const db = await openDb(':memory:');
    try {
      await db.do((tx) => tx.execScript('create table t (id integer primary key)'));
      await db.do((tx) => tx.exec('insert into t values (7)'));
      const row = await db.do((tx) => tx.get<{ id: number }>('select id from t'), {
        readonly: true,
        autocommit: true,
      });
      expect(row?.id).toBe(7);
      // query_only was switched off again: writes work
      await db.do((tx) => tx.exec('insert into t values (8)'));
    } finally {
      await db.close();
    }
  });
});

describe('insertMany', () => {
  test('inserts every row in multi-row statements, later rows of a key winning', async () => {
    await withDb(async (db) => {
      const rows = Array.from({ length: 1234 }, (_, i) => [i + 100, `n${i}`]);
      rows.push([100, 'again']);
      const before = db.stats().statementCache.misses;
      const { changes } = await db.do((tx) =>
        tx.insertMany('insert or replace into t (id, name)', rows, { maxRowsPerStatement: 300 }),
      );
      expect(changes).toBe(1235);
      // BEGIN, the 300-row statement (prepared once, used four times) and COMMIT; the last
      // chunk (35 rows) is not kept
      expect(db.stats().statementCache.misses - before).toBeLessThanOrEqual(3);
      const all = await read<Array<{ id: number; name: string }>>(db, (tx) =>
        tx.all('select id, name from t where id >= 100 order by id'),
      );
      expect(all).toHaveLength(1234);
      expect(all[0]).toEqual({ id: 100, name: 'again' });
      expect(all[1233]).toEqual({ id: 1333, name: 'n1233' });
    });
  });

  test('queued chunks run in order while other statements fill a small cache', async () => {
    await withDb(
      async (db) => {
        await db.do((tx) => tx.execScript('create table kv (k integer primary key, v text)'));
        // 400 rows over 40 keys: each key is written in every 10-row chunk; the last write wins
        const rows = Array.from({ length: 400 }, (_, i) => [i % 40, `v${i}`]);
        await db.do(async (tx) => {
          const inserting = tx.insertMany('insert or replace into kv (k, v)', rows, {
            maxRowsPerStatement: 10,
          });
          // statements prepared meanwhile on the same connection push older ones out of the
          // 2-statement cache: the queued insert's statement must stay usable
          await Promise.all(
            Array.from({ length: 6 }, (_, i) =>
              tx.get(`select ${i} as n from t where id = ?`, [1]),
            ),
          );
          expect((await inserting).changes).toBe(400);
        });
        const all = await read<Array<{ k: number; v: string }>>(db, (tx) =>
          tx.all('select k, v from kv order by k'),
        );
        expect(all).toEqual(Array.from({ length: 40 }, (_, k) => ({ k, v: `v${360 + k}` })));
      },
      { readConnections: 1, statementCacheSize: 2 },
    );
  });

  test('chunks stay within sqlite limit on bound variables', async () => {
    await withDb(async (db) => {
      const columns = Array.from({ length: 100 }, (_, i) => `c${i}`);
      await db.do((tx) => tx.exec(`create table wide (${columns.join(', ')})`));
      const rows = Array.from({ length: 700 }, (_, r) => columns.map((_, c) => r * 1000 + c));
      // 500 rows x 100 columns would be 50,000 variables: over the 32,766 limit
      await db.do((tx) => tx.insertMany(`insert into wide (${columns.join(', ')})`, rows));
      const n = await read<{ n: number; s: number }>(db, (tx) =>
        tx.get('select count(*) as n, sum(c99) as s from wide'),
      );
      expect(n).toEqual({ n: 700, s: rows.reduce((s, r) => s + (r[99] as number), 0) });
    });
  });

  test('a failing chunk rolls the transaction back; the error names the statement only', async () => {
    await withDb(async (db) => {
      const rows = Array.from({ length: 50 }, (_, i) => [i + 100, `secret-${i}`]);
      rows.push([999, 'a']); // 'a' is taken
      const err = (await db
        .do((tx) => tx.insertMany('insert into t (id, name)', rows, { maxRowsPerStatement: 20 }))
        .then(
          () => undefined,
          (e: unknown) => e,
        )) as Error;
      expect(err).toMatchObject({ code: DbErrorCodes.Constraint });
      expect(err.message).toMatch(/^insert into t \(multi-row\): SQLITE_CONSTRAINT/);
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('secret-');
      const n = await read<{ n: number }>(db, (tx) => tx.get('select count(*) as n from t'));
      expect(n?.n).toBe(3);
    });
  });

  test('rows of different lengths are refused; no rows is a no-op', async () => {
    await withDb(async (db) => {
      await expect(
        db.do((tx) => tx.insertMany('insert into t (id, name)', [[1, 'x'], [2]])),
      ).rejects.toMatchObject({ code: DbErrorCodes.InvalidArgument });
      expect(await db.do((tx) => tx.insertMany('insert into t (id, name)', []))).toEqual({
        changes: 0,
      });
    });
  });
});

describe('background WAL checkpoints', () => {
  /** Writes 8 KiB rows in 240 transactions, pausing now and then; returns the WAL's size. */
  async function writeAndMeasure(options: OpenDbOptions): Promise<{ wal: number; db: Db }> {
    const path = await tempDbPath();
    const db = await openDb(path, { ...options, readConnections: 1 });
    await db.do((tx) => tx.execScript('create table b (id integer primary key, v blob)'));
    for (let i = 0; i < 240; i++) {
      await db.do((tx) => tx.exec('insert into b (v) values (?)', [Buffer.alloc(8192, i)]));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => setTimeout(r, 50));
    return { wal: (await stat(`${path}-wal`)).size, db };
  }

  test('a connection of its own checkpoints after writes: the WAL is reused, not grown', async () => {
    const background = await writeAndMeasure({ checkpointIntervalMs: 5 });
    const commit = await writeAndMeasure({ checkpoint: 'commit' });
    try {
      // ~2 MB written: under sqlite's 1000-page threshold the commit mode never checkpoints
      expect(commit.wal).toBeGreaterThan(1_900_000);
      expect(commit.db.stats().checkpoints).toBe(0);
      expect(background.db.stats().checkpoints).toBeGreaterThan(3);
      expect(background.wal).toBeLessThan(commit.wal / 2);
      const n = await background.db.do(
        (tx) => tx.get<{ n: number }>('select count(*) as n from b'),
        {
          readonly: true,
        },
      );
      expect(n?.n).toBe(240);
    } finally {
      await background.db.close();
      await commit.db.close();
    }
  });

  test('bad checkpoint options are refused', async () => {
    await expect(
      openDb(await tempDbPath(), { checkpoint: 'never' as 'commit' }),
    ).rejects.toMatchObject({ code: DbErrorCodes.InvalidArgument });
  });
});

import { formatError } from '@agola-ts/errors';
import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from '../src/codes.js';
import { openDb, type Db } from '../src/db.js';
import { isClosedError, isConstraintError } from '../src/errors.js';
import { captureLogger, tempDbPath } from './helpers.js';

const SCHEMA = `
  create table user (id integer primary key, name text not null unique, token text);
  create table token (id integer primary key, userid integer not null references user (id), value text);
`;

async function withDb<T>(fn: (db: Db) => Promise<T>, path?: string): Promise<T> {
  const db = await openDb(path ?? (await tempDbPath()));
  try {
    await db.do((tx) => tx.execScript(SCHEMA));
    return await fn(db);
  } finally {
    await db.close();
  }
}

const count = (db: Db, table = 'user'): Promise<number | undefined> =>
  db.do(async (tx) => (await tx.get<{ n: number }>(`select count(*) as n from ${table}`))?.n);

describe('openDb', () => {
  test('configures WAL, foreign keys and the system sqlite', async () => {
    const db = await openDb(await tempDbPath());
    try {
      const info = await db.do(async (tx) => ({
        mode: await tx.get<{ journal_mode: string }>('pragma journal_mode'),
        fk: await tx.get<{ foreign_keys: number }>('pragma foreign_keys'),
        version: await tx.get<{ v: string }>('select sqlite_version() as v'),
      }));
      expect(info.mode?.journal_mode).toBe('wal');
      expect(info.fk?.foreign_keys).toBe(1);
      // Built against Debian bookworm's libsqlite3 (3.40.x), not the bundled amalgamation.
      expect(info.version?.v).toMatch(/^3\.40\./);
      const readFk = await db.do((tx) => tx.get<{ foreign_keys: number }>('pragma foreign_keys'), {
        readonly: true,
      });
      expect(readFk?.foreign_keys).toBe(1);
    } finally {
      await db.close();
    }
  });

  test('an unopenable path fails with ERR_DB_OPEN', async () => {
    const err = await openDb('/nonexistent-dir/x/y.sqlite').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: DbErrorCodes.Open });
    expect(String((err as Error).message)).toContain('/nonexistent-dir/x/y.sqlite');
  });

  test('bad options fail with ERR_DB_INVALID_ARGUMENT', async () => {
    await expect(openDb(':memory:', { maxAttempts: 0 })).rejects.toMatchObject({
      code: DbErrorCodes.InvalidArgument,
    });
  });

  test('data survives close and reopen', async () => {
    const path = await tempDbPath();
    await withDb((db) => db.do((tx) => tx.exec('insert into user (name) values (?)', ['a'])), path);
    const db = await openDb(path);
    try {
      expect(await db.do((tx) => tx.all('select name from user'))).toEqual([{ name: 'a' }]);
    } finally {
      await db.close();
    }
  });
});

describe('db.do', () => {
  test('commits on return and resolves with the result', async () => {
    await withDb(async (db) => {
      const r = await db.do(async (tx) => {
        const a = await tx.exec('insert into user (name) values (?)', ['a']);
        const b = await tx.exec('insert into user (name) values (?)', ['b']);
        return [a, b];
      });
      expect(r).toEqual([
        { changes: 1, lastID: 1 },
        { changes: 1, lastID: 2 },
      ]);
      const upd = await db.do((tx) => tx.exec('update user set token = ?', ['t']));
      expect(upd.changes).toBe(2);
      expect(await count(db)).toBe(2);
    });
  });

  test('an error in the middle rolls back everything and propagates the original error', async () => {
    await withDb(async (db) => {
      await db.do((tx) => tx.exec("insert into user (name) values ('kept')"));
      class MyError extends Error {}
      const mine = new MyError('stop here');
      const err = await db
        .do(async (tx) => {
          await tx.exec('insert into user (name) values (?)', ['x']);
          await tx.exec('update user set token = ?', ['changed']);
          await tx.exec('delete from user where name = ?', ['kept']);
          throw mine;
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).cause).toBe(mine);
      expect((err as Error).message).toBe('stop here');
      expect(await db.do((tx) => tx.all('select name, token from user'))).toEqual([
        { name: 'kept', token: null },
      ]);
    });
  });

  test('a failing statement rolls back the statements before it', async () => {
    await withDb(async (db) => {
      const err = await db
        .do(async (tx) => {
          await tx.exec('insert into user (name) values (?)', ['a']);
          await tx.exec('insert into nosuchtable (x) values (?)', [1]);
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: DbErrorCodes.Query });
      expect((err as Error).message).toMatch(
        /^insert into nosuchtable: SQLITE_ERROR: no such table/,
      );
      expect(await count(db)).toBe(0);
    });
  });

  test('constraint errors name the statement, never the parameter values', async () => {
    const { logger, lines } = captureLogger();
    const db = await openDb(await tempDbPath(), { logger });
    const secret = 'sup3r-s3cret-t0ken-value';
    try {
      await db.do((tx) => tx.execScript(SCHEMA));
      await db.do((tx) => tx.exec('insert into user (name, token) values (?, ?)', ['u', secret]));
      const err = await db
        .do((tx) =>
          tx.exec('insert into user (name, token) values ($name, $token)', {
            name: 'u',
            token: secret,
          }),
        )
        .catch((e: unknown) => e);
      expect(isConstraintError(err)).toBe(true);
      expect(err).toMatchObject({ code: DbErrorCodes.Constraint });
      expect((err as Error).message).toBe(
        'insert into user: SQLITE_CONSTRAINT: UNIQUE constraint failed: user.name',
      );
      // the sqlite error is kept as the cause, with its own code
      const chainCodes: unknown[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause) {
        chainCodes.push((e as { code?: unknown }).code);
      }
      expect(chainCodes).toContain('SQLITE_CONSTRAINT');

      const fk = await db
        .do((tx) =>
          tx.exec('insert into token (userid, value) values (?, ?)', [999, secret], {
            name: 'add token',
          }),
        )
        .catch((e: unknown) => e);
      expect(isConstraintError(fk)).toBe(true);
      expect((fk as Error).message).toBe(
        'add token: SQLITE_CONSTRAINT: FOREIGN KEY constraint failed',
      );

      const detailed = formatError(err, { detailed: true }) + formatError(fk, { detailed: true });
      expect(detailed).not.toContain(secret);
      expect(JSON.stringify(err)).not.toContain(secret);
      logger.error({ err }, 'insert failed');
      logger.error({ err: fk }, 'insert failed');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.join('\n')).toContain('UNIQUE constraint failed');
      expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await db.close();
    }
  });

  test('positional and named parameters', async () => {
    await withDb(async (db) => {
      await db.do(async (tx) => {
        await tx.exec('insert into user (name, token) values (?, ?)', ['a', 'ta']);
        await tx.exec('insert into user (name, token) values (?2, ?1)', ['tb', 'b']);
        await tx.exec('insert into user (name, token) values ($name, $token)', {
          name: 'c',
          token: 'tc',
          ignored: 'extra keys are ignored',
        });
        await tx.exec('insert into user (name, token) values (:name, @token)', {
          ':name': 'd',
          token: null,
        });
      });
      const rows = await db.do((tx) =>
        tx.all<{ name: string; token: string | null }>(
          "select name, token from user where name <> ':notaparam' order by name",
        ),
      );
      expect(rows).toEqual([
        { name: 'a', token: 'ta' },
        { name: 'b', token: 'tb' },
        { name: 'c', token: 'tc' },
        { name: 'd', token: null },
      ]);
      const one = await db.do((tx) =>
        tx.get<{ name: string }>('select name from user where name = $n or token = $n', {
          n: 'tc',
        }),
      );
      expect(one).toEqual({ name: 'c' });
      expect(await db.do((tx) => tx.get('select * from user where name = ?', ['zz']))).toBe(
        undefined,
      );
      const missing = await db
        .do((tx) => tx.exec('insert into user (name, token) values ($name, $token)', { name: 'e' }))
        .catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: DbErrorCodes.InvalidArgument });
      expect((missing as Error).message).toBe('missing named parameter $token');
    });
  });

  test('values: booleans, bigints, blobs, null', async () => {
    const db = await openDb(':memory:');
    try {
      const row = await db.do(async (tx) => {
        await tx.exec('create table v (b, i, x, n)');
        await tx.exec('insert into v values (?, ?, ?, ?)', [
          true,
          2n ** 40n,
          Buffer.from([1, 2, 3]),
          null,
        ]);
        return tx.get<{ b: number; i: number; x: Buffer; n: null }>('select * from v');
      });
      expect(row).toEqual({ b: 1, i: 2 ** 40, x: Buffer.from([1, 2, 3]), n: null });
      // node-sqlite3 would bind it as NULL: refused instead
      await expect(
        db.do((tx) => tx.exec('insert into v (i) values (?)', [2n ** 63n - 1n])),
      ).rejects.toMatchObject({ code: DbErrorCodes.InvalidArgument });
    } finally {
      await db.close();
    }
  });

  test('a tx used after its transaction ended fails with ERR_DB_TX_DONE', async () => {
    await withDb(async (db) => {
      let leaked: Parameters<Parameters<Db['do']>[0]>[0] | undefined;
      await db.do(async (tx) => {
        leaked = tx;
      });
      await expect(
        leaked!.exec('insert into user (name) values (?)', ['late']),
      ).rejects.toMatchObject({ code: DbErrorCodes.TxDone });
      expect(await count(db)).toBe(0);
    });
  });

  test('statements not awaited by the function still finish before the commit', async () => {
    await withDb(async (db) => {
      await db.do(async (tx) => {
        for (let i = 0; i < 20; i++) void tx.exec('insert into user (name) values (?)', [`u${i}`]);
      });
      expect(await count(db)).toBe(20);
    });
  });

  test('read-only transactions cannot write', async () => {
    for (const path of [await tempDbPath(), ':memory:']) {
      await withDb(async (db) => {
        const err = await db
          .do((tx) => tx.exec('insert into user (name) values (?)', ['r']), { readonly: true })
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: DbErrorCodes.Readonly });
        // the single in-memory connection is writable again afterwards
        await db.do((tx) => tx.exec('insert into user (name) values (?)', ['w']));
        expect(await count(db)).toBe(1);
      }, path);
    }
  });

  test('an in-memory database works for reads and writes', async () => {
    await withDb(async (db) => {
      await db.do((tx) => tx.exec('insert into user (name) values (?)', ['m']));
      const [a, b] = await Promise.all([
        db.do((tx) => tx.all('select name from user'), { readonly: true }),
        db.do((tx) => tx.exec('insert into user (name) values (?)', ['n'])),
      ]);
      expect(a).toEqual([{ name: 'm' }]);
      expect(b.changes).toBe(1);
    }, ':memory:');
  });

  test('close waits for started transactions, then refuses new ones', async () => {
    const db = await openDb(await tempDbPath());
    await db.do((tx) => tx.exec('create table t (x)'));
    const running = db.do(async (tx) => {
      await new Promise((r) => setTimeout(r, 50));
      await tx.exec('insert into t values (1)');
      return 'done';
    });
    const queued = db.do((tx) => tx.exec('insert into t values (2)'));
    const closing = db.close();
    const err = await db.do(async () => 1).catch((e: unknown) => e);
    expect(isClosedError(err)).toBe(true);
    expect(err).toMatchObject({ code: DbErrorCodes.Closed });
    expect(await running).toBe('done');
    expect((await queued).changes).toBe(1);
    await closing;
    await db.close();
  });
});

describe('large results', () => {
  test('all, each and iterate return every row in order', async () => {
    const n = 20_000;
    await withDb(async (db) => {
      await db.do(async (tx) => {
        await tx.exec('create table big (i integer primary key, s text)');
        await tx.exec(
          `with recursive c(i) as (select 1 union all select i + 1 from c where i < ${n})
           insert into big select i, 'row' || i from c`,
        );
      });
      await db.do(
        async (tx) => {
          const all = await tx.all<{ i: number }>('select i from big order by i');
          expect(all.length).toBe(n);

          let sum = 0;
          let last = 0;
          let ordered = true;
          const counted = await tx.each<{ i: number }>('select i from big order by i', [], (r) => {
            if (r.i !== last + 1) ordered = false;
            last = r.i;
            sum += r.i;
          });
          expect(counted).toBe(n);
          expect(ordered).toBe(true);
          expect(sum).toBe((n * (n + 1)) / 2);

          let seen = 0;
          for await (const r of tx.iterate<{ i: number; s: string }>(
            'select i, s from big where i > ? order by i',
            [n / 2],
          )) {
            seen++;
            expect(r.s).toBe(`row${r.i}`);
          }
          expect(seen).toBe(n / 2);

          // breaking out early releases the statement; the transaction goes on
          let taken = 0;
          for await (const _ of tx.iterate('select i from big')) {
            if (++taken === 10) break;
          }
          expect(taken).toBe(10);
          const err = await tx
            .each('select i from big', undefined, () => {
              throw new Error('callback failed');
            })
            .catch((e: unknown) => e);
          expect((err as Error).message).toBe('callback failed');
        },
        { readonly: true },
      );
    });
  });

  test('an iterator left open is released when the transaction ends', async () => {
    await withDb(async (db) => {
      await db.do((tx) => tx.exec("insert into user (name) values ('a'), ('b')"));
      let it: AsyncIterableIterator<unknown> | undefined;
      await db.do(async (tx) => {
        it = tx.iterate('select * from user');
        await it.next();
        await tx.exec("insert into user (name) values ('c')");
      });
      await expect(it!.next()).rejects.toMatchObject({ code: DbErrorCodes.TxDone });
      expect(await count(db)).toBe(3);
    });
  });
});

describe('synchronous', () => {
  test('is FULL by default and NORMAL on request; anything else is refused', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'db-sync-'));
    try {
      const full = await openDb(join(dir, 'a.sqlite'));
      const normal = await openDb(join(dir, 'b.sqlite'), { synchronous: 'normal' });
      // sqlite reports 2 for FULL, 1 for NORMAL
      expect(await full.do((tx) => tx.get('PRAGMA synchronous'))).toEqual({ synchronous: 2 });
      expect(await normal.do((tx) => tx.get('PRAGMA synchronous'))).toEqual({ synchronous: 1 });
      await full.close();
      await normal.close();
      await expect(openDb(join(dir, 'c.sqlite'), { synchronous: 'off' as never })).rejects.toThrow(
        `synchronous must be 'full' or 'normal', not "off"`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

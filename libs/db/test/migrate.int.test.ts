import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from '../src/codes.js';
import { openDb, type Db } from '../src/db.js';
import { isConstraintError } from '../src/errors.js';
import { migrate, type Migration } from '../src/migrate.js';
import { tempDbPath } from './helpers.js';

const V1: Migration = {
  version: 1,
  description: 'users',
  up: 'create table user (id text primary key, name text not null); create index user_name on user (name);',
};
const V2: Migration = {
  version: 2,
  up: async (tx) => {
    await tx.exec('alter table user add column email text');
    await tx.exec("update user set email = name || '@example.com'");
  },
};
const V5: Migration = { version: 5, up: 'create table org (id text primary key);' };

async function withDb(fn: (db: Db, path: string) => Promise<void>): Promise<void> {
  const path = await tempDbPath();
  const db = await openDb(path);
  try {
    await fn(db, path);
  } finally {
    await db.close();
  }
}

const versions = (db: Db): Promise<number[]> =>
  db
    .do((tx) => tx.all<{ version: number }>('select version from dbversion order by version'))
    .then((rows) => rows.map((r) => r.version));

const tables = (db: Db): Promise<string[]> =>
  db
    .do((tx) =>
      tx.all<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
      ),
    )
    .then((rows) => rows.map((r) => r.name));

describe('migrate', () => {
  test('creates a fresh schema and records every version', async () => {
    await withDb(async (db) => {
      expect(await migrate(db, [V1, V2, V5])).toEqual({ from: 0, to: 5, applied: [1, 2, 5] });
      expect(await tables(db)).toEqual(['dbversion', 'org', 'user']);
      expect(await versions(db)).toEqual([1, 2, 5]);
      const row = await db.do((tx) => tx.get<{ time: string }>('select time from dbversion'));
      expect(row?.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    });
  });

  test('upgrades an older schema, keeping its data; running again is a no-op', async () => {
    await withDb(async (db, path) => {
      await migrate(db, [V1]);
      await db.do((tx) => tx.exec("insert into user (id, name) values ('1', 'ann')"));
      await db.close();
      const reopened = await openDb(path);
      try {
        expect(await migrate(reopened, [V1, V2])).toEqual({ from: 1, to: 2, applied: [2] });
        expect(await reopened.do((tx) => tx.all('select * from user'))).toEqual([
          { id: '1', name: 'ann', email: 'ann@example.com' },
        ]);
        expect(await migrate(reopened, [V1, V2])).toEqual({ from: 2, to: 2, applied: [] });
        expect(await versions(reopened)).toEqual([1, 2]);
      } finally {
        await reopened.close();
      }
    });
  });

  test('concurrent migrations (two Db on one file) apply each version once', async () => {
    await withDb(async (db, path) => {
      const other = await openDb(path);
      try {
        const [a, b] = await Promise.all([migrate(db, [V1, V2, V5]), migrate(other, [V1, V2, V5])]);
        expect([...a.applied, ...b.applied].sort()).toEqual([1, 2, 5]);
        expect(await versions(db)).toEqual([1, 2, 5]);
      } finally {
        await other.close();
      }
    });
  });

  test('a failing migration rolls back and leaves the version as it was', async () => {
    await withDb(async (db) => {
      await migrate(db, [V1]);
      await db.do((tx) => tx.exec("insert into user (id, name) values ('1', 'ann'), ('2', 'ann')"));
      const failing: Migration = {
        version: 2,
        description: 'unique names',
        up: 'create table audit (x); drop index user_name; create unique index user_name on user (name);',
      };
      const err = await migrate(db, [V1, failing, V5]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: DbErrorCodes.Migration });
      expect(isConstraintError(err)).toBe(true);
      expect((err as Error).message).toMatch(
        /^migration 2 \(unique names\): up script: SQLITE_CONSTRAINT: UNIQUE constraint failed/,
      );
      expect(await versions(db)).toEqual([1]);
      expect(await tables(db)).toEqual(['dbversion', 'user']);
      const idx = await db.do((tx) =>
        tx.get("select name from sqlite_master where type = 'index' and name = 'user_name'"),
      );
      expect(idx).toEqual({ name: 'user_name' });

      const throwing: Migration = {
        version: 2,
        up: async (tx) => {
          await tx.exec('create table audit (x)');
          throw new Error('bad data');
        },
      };
      const err2 = await migrate(db, [V1, throwing]).catch((e: unknown) => e);
      expect(err2).toMatchObject({ code: DbErrorCodes.Migration });
      expect((err2 as Error).message).toBe('migration 2: bad data');
      expect(await tables(db)).toEqual(['dbversion', 'user']);
      expect(await versions(db)).toEqual([1]);
    });
  });

  test('a database newer than the code is refused', async () => {
    await withDb(async (db) => {
      await migrate(db, [V1, V2]);
      const err = await migrate(db, [V1]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: DbErrorCodes.TooNew });
      expect((err as Error).message).toBe(
        "database schema version 2 is newer than this code's (1)",
      );
      await expect(migrate(db, [])).rejects.toMatchObject({ code: DbErrorCodes.TooNew });
      expect(await versions(db)).toEqual([1, 2]);
    });
  });

  test('versions must be positive increasing integers', async () => {
    await withDb(async (db) => {
      for (const list of [
        [V2, V1],
        [V1, V1],
        [{ version: 0, up: '' }],
        [{ version: 1.5, up: '' }],
      ]) {
        await expect(migrate(db, list)).rejects.toMatchObject({
          code: DbErrorCodes.InvalidArgument,
        });
      }
      // nothing was created
      expect(await tables(db)).toEqual([]);
    });
  });

  test('reads a database created by Agola (dbversion with version 1)', async () => {
    await withDb(async (db) => {
      await db.do((tx) =>
        tx.execScript(
          "create table dbversion (version int not null, time timestamp not null); insert into dbversion values (1, '2024-01-01 00:00:00'); create table user (id text primary key, name text not null);",
        ),
      );
      expect(await migrate(db, [V1, V2])).toEqual({ from: 1, to: 2, applied: [2] });
    });
  });
});

import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from '../src/codes.js';
import { openDb, type Db } from '../src/db.js';
import { isAbortedError } from '../src/errors.js';
import { gate, holdWriteLock, tempDbPath } from './helpers.js';

async function withDb(fn: (db: Db, path: string) => Promise<void>): Promise<void> {
  const path = await tempDbPath();
  const db = await openDb(path, { busyTimeoutMs: 50, maxAttempts: 1000, retryDelayMs: 10 });
  try {
    await db.do((tx) => tx.exec('create table t (x)'));
    await fn(db, path);
  } finally {
    await db.close();
  }
}

const rows = (db: Db): Promise<number | undefined> =>
  db.do(async (tx) => (await tx.get<{ n: number }>('select count(*) as n from t'))?.n);

describe('cancellation', () => {
  test('an already aborted signal runs nothing', async () => {
    await withDb(async (db) => {
      let ran = false;
      const err = await db
        .do(async () => void (ran = true), { signal: AbortSignal.abort() })
        .catch((e: unknown) => e);
      expect(isAbortedError(err)).toBe(true);
      expect(ran).toBe(false);
    });
  });

  test('aborting between statements rolls back, the next tx call fails with ERR_DB_ABORTED', async () => {
    await withDb(async (db) => {
      const ac = new AbortController();
      const reason = new Error('client went away');
      const err = await db
        .do(
          async (tx) => {
            await tx.exec('insert into t values (1)');
            ac.abort(reason);
            await tx.exec('insert into t values (2)');
          },
          { signal: ac.signal },
        )
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: DbErrorCodes.Aborted });
      expect((err as Error).message).toBe('transaction cancelled: client went away');
      expect(await rows(db)).toBe(0);
      // the connection is usable afterwards
      await db.do((tx) => tx.exec('insert into t values (3)'));
      expect(await rows(db)).toBe(1);
    });
  });

  test('a function that returns after the abort is rolled back too', async () => {
    await withDb(async (db) => {
      const ac = new AbortController();
      const err = await db
        .do(
          async (tx) => {
            await tx.exec('insert into t values (1)');
            ac.abort();
            return 'ignored';
          },
          { signal: ac.signal },
        )
        .catch((e: unknown) => e);
      expect(isAbortedError(err)).toBe(true);
      expect(await rows(db)).toBe(0);
    });
  });

  test('a long-running statement is interrupted', async () => {
    await withDb(async (db) => {
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 100);
      const err = await db
        .do(
          async (tx) => {
            await tx.exec('insert into t values (1)');
            // never ends by itself
            await tx.get(
              'with recursive c(i) as (select 1 union all select i + 1 from c) select count(*) from c',
            );
          },
          { signal: ac.signal },
        )
        .catch((e: unknown) => e);
      expect(isAbortedError(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await rows(db)).toBe(0);
      await db.do((tx) => tx.exec('insert into t values (2)'));
      expect(await rows(db)).toBe(1);
    });
  });

  test('a transaction waiting for its turn leaves the queue when aborted', async () => {
    await withDb(async (db) => {
      const release = gate();
      const first = db.do(async (tx) => {
        await tx.exec('insert into t values (1)');
        await release.wait;
      });
      const ac = new AbortController();
      let ran = false;
      const queued = db.do(
        async (tx) => {
          ran = true;
          await tx.exec('insert into t values (2)');
        },
        { signal: ac.signal },
      );
      const third = db.do((tx) => tx.exec('insert into t values (3)'));
      ac.abort();
      await expect(queued).rejects.toMatchObject({ code: DbErrorCodes.Aborted });
      release.open();
      await first;
      await third;
      expect(ran).toBe(false);
      expect(await db.do((tx) => tx.all('select x from t order by x'))).toEqual([
        { x: 1 },
        { x: 3 },
      ]);
    });
  });

  test('aborting while retrying on a locked database stops the retries', async () => {
    await withDb(async (db, path) => {
      const holder = await holdWriteLock(path, 5000);
      try {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 300);
        const started = Date.now();
        const err = await db
          .do((tx) => tx.exec('insert into t values (1)'), { signal: ac.signal })
          .catch((e: unknown) => e);
        expect(isAbortedError(err)).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        holder.child.kill();
        await holder.exited;
      }
    });
  });

  test('a read-only transaction is cancelled the same way', async () => {
    await withDb(async (db) => {
      const ac = new AbortController();
      const err = await db
        .do(
          async (tx) => {
            await tx.all('select * from t');
            ac.abort();
            await tx.all('select * from t');
          },
          { signal: ac.signal, readonly: true },
        )
        .catch((e: unknown) => e);
      expect(isAbortedError(err)).toBe(true);
      expect(await db.do((tx) => tx.all('select 1 as one'), { readonly: true })).toEqual([
        { one: 1 },
      ]);
    });
  });
});

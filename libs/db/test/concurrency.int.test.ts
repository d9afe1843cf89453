import { describe, expect, test } from 'vitest';
import { DbErrorCodes } from '../src/codes.js';
import { openDb } from '../src/db.js';
import { isBusyError } from '../src/errors.js';
import { captureLogger, gate, holdWriteLock, tempDbPath } from './helpers.js';

describe('write transactions', () => {
  test('concurrent read-modify-write transactions are serialized: no busy error, exact counts', async () => {
    const path = await tempDbPath();
    const db = await openDb(path);
    try {
      await db.do((tx) =>
        tx.execScript(
          'create table counter (n integer); insert into counter values (0); create table log (k integer);',
        ),
      );
      const writers = 50;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: writers }, (_, k) =>
          db.do(async (tx) => {
            order.push(k);
            const row = await tx.get<{ n: number }>('select n from counter');
            // yield to the event loop between read and write: a lost update would show here
            await new Promise((r) => setTimeout(r, 1));
            await tx.exec('update counter set n = ?', [row!.n + 1]);
            await tx.exec('insert into log values (?)', [k]);
          }),
        ),
      );
      expect(await db.do((tx) => tx.get('select n from counter'))).toEqual({ n: writers });
      // FIFO: transactions ran in call order
      expect(order).toEqual(Array.from({ length: writers }, (_, k) => k));
      const logged = await db.do((tx) => tx.all<{ k: number }>('select k from log order by rowid'));
      expect(logged.map((r) => r.k)).toEqual(order);
    } finally {
      await db.close();
    }
  });

  test('two Db instances on one file (as two processes would) serialize through sqlite locks', async () => {
    const path = await tempDbPath();
    const a = await openDb(path, { busyTimeoutMs: 50, maxAttempts: 100, retryDelayMs: 1 });
    const b = await openDb(path, { busyTimeoutMs: 50, maxAttempts: 100, retryDelayMs: 1 });
    try {
      await a.do((tx) =>
        tx.execScript('create table counter (n integer); insert into counter values (0);'),
      );
      const inc = (db: typeof a) =>
        db.do(async (tx) => {
          const row = await tx.get<{ n: number }>('select n from counter');
          await new Promise((r) => setTimeout(r, 1));
          await tx.exec('update counter set n = ?', [row!.n + 1]);
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => inc(i % 2 ? a : b)));
      expect(await b.do((tx) => tx.get('select n from counter'))).toEqual({ n: 20 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('read-only transactions', () => {
  test('run concurrently with a long write transaction and see the last committed state', async () => {
    const db = await openDb(await tempDbPath(), { readConnections: 3 });
    try {
      await db.do((tx) =>
        tx.execScript(
          "create table kv (k text primary key, v text); insert into kv values ('a', 'old');",
        ),
      );
      const inWrite = gate();
      const finishWrite = gate();
      const writing = db.do(async (tx) => {
        await tx.exec('update kv set v = ? where k = ?', ['new', 'a']);
        await tx.exec("insert into kv values ('b', 'new')");
        inWrite.open();
        await finishWrite.wait;
      });
      await inWrite.wait;
      // three readers hold their transactions open at the same time, while the writer holds its own
      const allIn = gate();
      let inside = 0;
      const reads = await Promise.all(
        Array.from({ length: 3 }, () =>
          db.do(
            async (tx) => {
              const rows = await tx.all('select k, v from kv order by k');
              if (++inside === 3) allIn.open();
              await allIn.wait;
              return rows;
            },
            { readonly: true },
          ),
        ),
      );
      for (const rows of reads) expect(rows).toEqual([{ k: 'a', v: 'old' }]);

      // a snapshot taken before the commit stays the same after it
      const snapshotTaken = gate();
      const committed = gate();
      const reader = db.do(
        async (tx) => {
          const before = await tx.all('select k, v from kv order by k');
          snapshotTaken.open();
          await committed.wait;
          const after = await tx.all('select k, v from kv order by k');
          return { before, after };
        },
        { readonly: true },
      );
      await snapshotTaken.wait;
      finishWrite.open();
      await writing;
      committed.open();
      const r = await reader;
      expect(r.before).toEqual([{ k: 'a', v: 'old' }]);
      expect(r.after).toEqual(r.before);

      const fresh = await db.do((tx) => tx.all('select k, v from kv order by k'), {
        readonly: true,
      });
      expect(fresh).toEqual([
        { k: 'a', v: 'new' },
        { k: 'b', v: 'new' },
      ]);
    } finally {
      await db.close();
    }
  });
});

describe('a write lock held by another process', () => {
  test('db.do retries until the lock is released, then succeeds', async () => {
    const path = await tempDbPath();
    const { logger, lines } = captureLogger();
    const db = await openDb(path, {
      logger,
      busyTimeoutMs: 100,
      maxAttempts: 50,
      retryDelayMs: 20,
    });
    try {
      await db.do((tx) => tx.exec('create table t (x)'));
      const holder = await holdWriteLock(path, 1000);
      let runs = 0;
      await db.do(async (tx) => {
        runs++;
        await tx.exec('insert into t values (?)', ['secret-value-42']);
      });
      expect(await holder.exited).toBe(0);
      const retries = lines.filter((l) => l.includes('retrying the transaction'));
      expect(retries.length).toBeGreaterThan(0);
      // the lock is taken by BEGIN IMMEDIATE, before the function runs
      expect(runs).toBe(1);
      expect(lines.join('\n')).not.toContain('secret-value-42');
      expect(await db.do((tx) => tx.get('select count(*) as n from t'))).toEqual({ n: 1 });
    } finally {
      await db.close();
    }
  });

  test('a lock held too long fails with ERR_DB_BUSY after the last attempt', async () => {
    const path = await tempDbPath();
    const db = await openDb(path, { busyTimeoutMs: 50, maxAttempts: 3, retryDelayMs: 10 });
    try {
      await db.do((tx) => tx.exec('create table t (x)'));
      const holder = await holdWriteLock(path, 4000);
      let runs = 0;
      const err = await db
        .do(async (tx) => {
          runs++;
          await tx.exec('insert into t values (1)');
        })
        .catch((e: unknown) => e);
      expect(isBusyError(err)).toBe(true);
      expect(err).toMatchObject({ code: DbErrorCodes.Busy });
      expect((err as Error).message).toMatch(
        /^database is locked: gave up after 3 attempts: begin: SQLITE_BUSY/,
      );
      expect(runs).toBe(0);
      // readers are not blocked by the other process's writer (WAL)
      expect(
        await db.do((tx) => tx.get('select count(*) as n from t'), { readonly: true }),
      ).toEqual({ n: 0 });
      holder.child.kill();
      await holder.exited;
    } finally {
      await db.close();
    }
  });
});

import sqlite3 from 'sqlite3';
import { stripLiterals } from './statement-name.js';

/** What `exec` returns: rows changed and the rowid of the last insert. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  changes: number;
  /** The rowid of the last inserted row (meaningful after an insert only). */
  lastID: number;
}

/** Counters of a connection's prepared-statement cache. */
export interface StatementCacheStats {
  /** Statements held prepared now. */
  size: number;
  /** Calls that reused a prepared statement. */
  hits: number;
  /** Calls that had to prepare their statement. */
  misses: number;
  /** Statements finalized to stay within the bound, after an error or a schema change. */
  evictions: number;
}

interface CachedStatement {
  stmt: sqlite3.Statement;
  /** The SQL has parameter placeholders (then it must never run with no bound values). */
  hasParams: boolean;
}

const PARAM = /[?$:@]/;

/**
 * One sqlite connection with promise methods. node-sqlite3 runs each statement on the libuv
 * thread pool; statements of one connection run one at a time.
 *
 * Statements are prepared once and kept in a bounded LRU cache keyed by their SQL text: a
 * cached call is one thread-pool round trip where `Database#run` is three (prepare, run,
 * finalize). sqlite re-prepares a cached statement by itself when the schema changes; the
 * cache is emptied after schema scripts and DDL anyway, a statement that failed is dropped,
 * and every statement is finalized before the connection closes (sqlite refuses to close a
 * connection with live statements).
 */
export class Connection {
  private readonly cache = new Map<string, CachedStatement>();
  /** Cached statements with calls queued by {@link runQueued}: never evicted meanwhile. */
  private readonly pinned = new Map<sqlite3.Statement, number>();
  /** Resets queued after `get` calls (a statement stepped once keeps its read snapshot). */
  private readonly resets = new Set<Promise<void>>();
  private readonly finalizing = new Set<Promise<void>>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  private constructor(
    private readonly db: sqlite3.Database,
    private readonly cacheSize: number,
  ) {}

  /** Opens (and creates) the database file; `cacheSize` prepared statements are kept. */
  static open(path: string, cacheSize = 0): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(
        path,
        sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE | sqlite3.OPEN_FULLMUTEX,
        (err) => (err ? reject(err) : resolve(new Connection(db, cacheSize))),
      );
    });
  }

  /** Sets sqlite's busy timeout: how long a statement waits for a lock before SQLITE_BUSY. */
  busyTimeout(ms: number): void {
    this.db.configure('busyTimeout', ms);
  }

  /** Interrupts the statements running now (they fail with SQLITE_INTERRUPT). */
  interrupt(): void {
    this.db.interrupt();
  }

  /** The cache's counters. */
  stats(): StatementCacheStats {
    return {
      size: this.cache.size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  /**
   * A prepared statement for `sql` from the cache (moved to the most recently used end), or a
   * newly prepared one (cached when `cache` is true); undefined when the statement must not
   * be reused for these parameters.
   */
  private async statement(
    sql: string,
    params: unknown,
    cache = true,
  ): Promise<sqlite3.Statement | undefined> {
    if (this.cacheSize === 0 || !cache) return undefined;
    const hit = this.cache.get(sql);
    if (hit) {
      if (hit.hasParams && isEmpty(params)) return undefined;
      this.hits++;
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit.stmt;
    }
    const hasParams = PARAM.test(sql) && PARAM.test(stripLiterals(sql));
    // stale bindings would be reused: a statement with placeholders needs values
    if (hasParams && isEmpty(params)) return undefined;
    const stmt = await new Promise<sqlite3.Statement>((resolve, reject) => {
      const s: sqlite3.Statement = this.db.prepare(sql, (err: Error | null) =>
        err ? reject(err) : resolve(s),
      );
    });
    this.misses++;
    // another call may have prepared the same text meanwhile: keep one
    const raced = this.cache.get(sql);
    if (raced) {
      this.finalizeLater(stmt);
      return raced.stmt;
    }
    this.cache.set(sql, { stmt, hasParams });
    while (this.cache.size > this.cacheSize) {
      let oldest: string | undefined;
      for (const [key, entry] of this.cache) {
        if (!this.pinned.has(entry.stmt)) {
          oldest = key;
          break;
        }
      }
      if (oldest === undefined) break;
      this.evict(oldest);
    }
    return stmt;
  }

  /** Drops one statement from the cache; queued calls on it still run before it is finalized. */
  private evict(sql: string): void {
    const entry = this.cache.get(sql);
    if (!entry) return;
    this.cache.delete(sql);
    this.evictions++;
    this.finalizeLater(entry.stmt);
  }

  private finalizeLater(stmt: sqlite3.Statement): void {
    const p = new Promise<void>((resolve) => stmt.finalize(() => resolve()));
    this.finalizing.add(p);
    void p.then(() => this.finalizing.delete(p));
  }

  /** Empties the cache (after a schema change made on this connection). */
  clearCache(): void {
    for (const sql of [...this.cache.keys()]) this.evict(sql);
  }

  /** A failed statement leaves the cache: the next call prepares it again. */
  private failed(sql: string, stmt: sqlite3.Statement): void {
    if (this.cache.get(sql)?.stmt === stmt) this.evict(sql);
  }

  async run(sql: string, params: unknown, cache = true): Promise<RunResult> {
    const stmt = await this.statement(sql, params, cache);
    try {
      return await new Promise<RunResult>((resolve, reject) => {
        const done = function (this: sqlite3.RunResult, err: Error | null): void {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastID: this.lastID });
        };
        if (stmt) stmt.run(params, done);
        else this.db.run(sql, params, done);
      });
    } catch (err) {
      if (stmt) this.failed(sql, stmt);
      throw err;
    }
  }

  /**
   * Runs one statement once per parameter list, `depth` calls queued at a time on the same
   * cached statement: node-sqlite3 binds a call's values when it is made and runs a
   * statement's calls in order, so the values of the next call are bound (on this thread)
   * while sqlite runs the previous one (on the thread pool). Resolves with the rows changed in
   * total. On a failure it queues no more calls and rejects once the queued ones ended: a call
   * queued before the failure may have run, so the transaction must be rolled back. Without a
   * statement cache the calls run one after the other.
   */
  async runQueued(sql: string, paramsList: readonly unknown[], depth = 2): Promise<number> {
    const first = paramsList[0];
    if (first === undefined) return 0;
    const stmt = await this.statement(sql, first);
    let changes = 0;
    if (!stmt) {
      for (const params of paramsList) changes += (await this.run(sql, params, false)).changes;
      return changes;
    }
    const runOne = (params: unknown) =>
      new Promise<number>((resolve, reject) => {
        stmt.run(params, function (this: sqlite3.RunResult, err: Error | null): void {
          if (err) reject(err);
          else resolve(this.changes);
        });
      });
    this.pinned.set(stmt, (this.pinned.get(stmt) ?? 0) + 1);
    let pinned = true;
    const unpin = () => {
      if (pinned) this.unpin(stmt);
      pinned = false;
    };
    const queued: Promise<number>[] = [];
    try {
      for (const params of paramsList) {
        const oldest = queued.length >= depth ? queued.shift() : undefined;
        if (oldest) changes += await oldest;
        const p = runOne(params);
        p.catch(() => undefined); // awaited in turn
        queued.push(p);
      }
      for (const p of queued.splice(0)) changes += await p;
      return changes;
    } catch (err) {
      await Promise.allSettled(queued);
      unpin(); // a failed statement leaves the cache
      this.failed(sql, stmt);
      throw err;
    } finally {
      unpin();
    }
  }

  private unpin(stmt: sqlite3.Statement): void {
    const n = this.pinned.get(stmt);
    if (n === undefined) return;
    if (n <= 1) this.pinned.delete(stmt);
    else this.pinned.set(stmt, n - 1);
  }

  async get<T>(sql: string, params: unknown): Promise<T | undefined> {
    const stmt = await this.statement(sql, params);
    if (!stmt) {
      return new Promise((resolve, reject) => {
        this.db.get(sql, params, (err: Error | null, row: T | undefined) =>
          err ? reject(err) : resolve(row),
        );
      });
    }
    const row = new Promise<T | undefined>((resolve, reject) => {
      stmt.get(params, (err: Error | null, row: T | undefined) =>
        err ? reject(err) : resolve(row),
      );
    });
    // Queued right behind the get on the same statement: a statement stepped once stays
    // active (holding its read snapshot) until it is reset.
    const reset = new Promise<void>((resolve) => stmt.reset(() => resolve()));
    this.resets.add(reset);
    void reset.then(() => this.resets.delete(reset));
    try {
      return await row;
    } catch (err) {
      this.failed(sql, stmt);
      throw err;
    }
  }

  async all<T>(sql: string, params: unknown): Promise<T[]> {
    const stmt = await this.statement(sql, params);
    return new Promise<T[]>((resolve, reject) => {
      const done = (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows));
      if (stmt) stmt.all(params, done);
      else this.db.all(sql, params, done);
    }).catch((err: unknown) => {
      if (stmt) this.failed(sql, stmt);
      throw err;
    });
  }

  /**
   * Streams rows to `onRow` as sqlite produces them. The first exception thrown by `onRow`
   * rejects the promise; later rows are dropped.
   */
  async each<T>(sql: string, params: unknown, onRow: (row: T) => void): Promise<number> {
    const stmt = await this.statement(sql, params);
    return new Promise<number>((resolve, reject) => {
      let failure: { err: unknown } | undefined;
      const row = (err: Error | null, r: T) => {
        if (err || failure) return;
        try {
          onRow(r);
        } catch (e) {
          failure = { err: e };
        }
      };
      const done = (err: Error | null, count: number) => {
        if (err) reject(err);
        else if (failure) reject(failure.err);
        else resolve(count);
      };
      if (stmt) stmt.each(params, row, done);
      else this.db.each(sql, params, row, done);
    }).catch((err: unknown) => {
      if (stmt && err instanceof Error && 'code' in err) this.failed(sql, stmt);
      throw err;
    });
  }

  /** Runs several `;`-separated statements without parameters (never cached). */
  execScript(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** A statement of its own (not cached), for iterating one row at a time. */
  prepare(sql: string, params: unknown): Promise<PreparedStatement> {
    return new Promise((resolve, reject) => {
      const stmt: sqlite3.Statement = this.db.prepare(sql, params, (err: Error | null) =>
        err ? reject(err) : resolve(new PreparedStatement(stmt)),
      );
    });
  }

  /** Waits for the resets queued by `get` calls, so the connection holds no read snapshot. */
  async settle(): Promise<void> {
    while (this.resets.size > 0) await Promise.all([...this.resets]);
  }

  /** Finalizes every cached statement, then closes the connection. */
  async close(): Promise<void> {
    await this.settle();
    this.clearCache();
    while (this.finalizing.size > 0) await Promise.all([...this.finalizing]);
    return new Promise((resolve, reject) => {
      this.db.close((err) => (err ? reject(err) : resolve()));
    });
  }
}

function isEmpty(params: unknown): boolean {
  if (params === undefined || params === null) return true;
  if (Array.isArray(params)) return params.length === 0;
  return typeof params === 'object' && Object.keys(params).length === 0;
}

/** A prepared statement read one row at a time. */
export class PreparedStatement {
  private finalized = false;

  constructor(private readonly stmt: sqlite3.Statement) {}

  /** The next row, or undefined at the end. */
  next<T>(): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.stmt.get((err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  /** Releases the statement; safe to call twice. */
  finalize(): Promise<void> {
    if (this.finalized) return Promise.resolve();
    this.finalized = true;
    return new Promise((resolve) => {
      this.stmt.finalize(() => resolve());
    });
  }
}

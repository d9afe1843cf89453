import { is, newError, withStack, wrap } from '@agola-ts/errors';
import { DbErrorCodes } from './codes.js';
import { Connection, type StatementCacheStats } from './connection.js';
import { wrapSqliteError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { Pool } from './pool.js';
import { abortedError, Transaction, type Tx, type TxLimits } from './tx.js';

/** Options of {@link openDb}. */
export interface OpenDbOptions {
  /** Where to log retries, rollback failures and migrations (pino-compatible). Default: silent. */
  logger?: Logger;
  /**
   * How long one statement waits for a lock held by another connection or process before
   * failing with SQLITE_BUSY (sqlite's busy timeout). A transaction is then retried, up to
   * `maxAttempts` times.
   *
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * How many times `db.do` runs a transaction that keeps failing with SQLITE_BUSY /
   * SQLITE_LOCKED before giving up with `ERR_DB_BUSY`.
   *
   * @default 5
   */
  maxAttempts?: number;
  /**
   * The first pause between two attempts; it doubles at every retry (with jitter), up to
   * one second.
   *
   * @default 25
   */
  retryDelayMs?: number;
  /**
   * How many read-only transactions can run at the same time (one connection each). Ignored
   * for in-memory databases, which have a single connection.
   *
   * @default 4
   */
  readConnections?: number;
  /**
   * sqlite's `synchronous` setting. `full` syncs the WAL on every commit (nothing committed is
   * lost on a power failure); `normal` syncs it only at WAL checkpoints (a power failure may
   * lose the last commits, never corrupts the file), several times faster for small
   * transactions: right for a read model that can be rebuilt.
   *
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /**
   * How many prepared statements each connection keeps (least recently used ones are
   * finalized first). A cached statement runs in one thread-pool round trip instead of
   * three (prepare, run, finalize). `0` prepares every statement anew.
   *
   * @default 100
   */
  statementCacheSize?: number;
  /**
   * Who copies the WAL back into the database file (a WAL checkpoint, with its fsync).
   * `'background'`: a connection of its own, at most `checkpointIntervalMs` after a write
   * commits, off the writers' path (file databases in WAL mode only). `'commit'`: sqlite's
   * default, the commit that fills the WAL past 1000 pages does it before it returns, so
   * that write waits (tens of ms for a busy WAL, much more after a bulk load).
   *
   * @default 'background'
   */
  checkpoint?: 'background' | 'commit';
  /**
   * With `checkpoint: 'background'`, how long after a write commit the checkpoint runs.
   *
   * @default 200
   */
  checkpointIntervalMs?: number;
}

/** Options of {@link Db.do}. */
export interface DoOptions {
  /**
   * Cancels the transaction: waiting for its turn stops, the running statement is
   * interrupted, every later `tx` call fails, and the transaction rolls back with
   * `ERR_DB_ABORTED`. A transaction whose function returns after the signal fired is rolled
   * back too.
   */
  signal?: AbortSignal;
  /**
   * Runs a read-only transaction (`BEGIN DEFERRED` on a read connection): it runs alongside
   * the writer and other readers and sees the state committed when its first statement ran.
   * A write in it fails with `ERR_DB_READONLY`.
   *
   * @default false
   */
  readonly?: boolean;
  /**
   * With `readonly`: run the statements without `BEGIN` / `COMMIT`, each in its own implicit
   * transaction, saving two round trips to sqlite. Each statement sees the state committed
   * when it started, so it suits a function of a single statement (one read is always
   * consistent with itself) or reads that need no common snapshot.
   *
   * @default false
   */
  autocommit?: boolean;
}

/** Counters of a database's prepared-statement caches, summed over its connections. */
export interface DbStats {
  /** Statements prepared and kept now, calls that reused one, calls that prepared one, finalized ones. */
  statementCache: StatementCacheStats;
  /** Background WAL checkpoints run (see `checkpoint`). */
  checkpoints: number;
}

/** A sqlite database opened with {@link openDb}. */
export interface Db {
  /** The path the database was opened with. */
  readonly path: string;

  /**
   * Runs `fn` in one transaction: commits when it returns (resolving with its result), rolls
   * back when it throws (rejecting with its error, wrapped with `withStack`). Write
   * transactions run one at a time, in call order; read-only ones run concurrently. When the
   * database is locked by another process (SQLITE_BUSY / SQLITE_LOCKED), the transaction is
   * rolled back and `fn` runs again after a pause, so `fn` must not have side effects outside
   * the transaction.
   *
   * @throws `ERR_DB_BUSY` when every attempt found the database locked; `ERR_DB_ABORTED` when
   * the signal fired; `ERR_DB_CLOSED` after `close()`; otherwise the error `fn` threw (a
   * statement error has the code `ERR_DB_CONSTRAINT`, `ERR_DB_QUERY`...).
   * @example
   * ```ts
   * const id = await db.do(async (tx) => {
   *   const { lastID } = await tx.exec('insert into user (name) values (?)', [name]);
   *   await tx.exec('insert into user_token (userid, tokenvalue) values (?, ?)', [lastID, token]);
   *   return lastID;
   * }, { signal });
   * ```
   */
  do<T>(fn: (tx: Tx) => Promise<T>, options?: DoOptions): Promise<T>;

  /** The prepared-statement caches' counters (for tests and monitoring). */
  stats(): DbStats;

  /**
   * Closes the database: new transactions fail with `ERR_DB_CLOSED`; transactions already
   * started (running or queued) finish first, then the connections are closed. Safe to call
   * twice.
   */
  close(): Promise<void>;
}

const MAX_RETRY_DELAY_MS = 1000;

function checkCount(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw newError(`${name} must be an integer >= ${min}`, { code: DbErrorCodes.InvalidArgument });
  }
}

/** True for sqlite's private, per-connection databases: they cannot be shared by a pool. */
function isPrivateDatabase(path: string): boolean {
  return path === '' || path === ':memory:';
}

/**
 * Opens (creating it if needed) a sqlite database: WAL journal mode, foreign keys on, a busy
 * timeout. A file database gets one write connection and a pool of read connections; an
 * in-memory one (`':memory:'`) a single connection shared by all transactions.
 *
 * @throws `ERR_DB_OPEN` when the file cannot be opened or configured;
 * `ERR_DB_INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const db = await openDb(join(dataDir, 'readdb.sqlite'), { logger });
 * await migrate(db, migrations);
 * const user = await db.do((tx) => tx.get('select data from user where id = ?', [id]), {
 *   readonly: true,
 * });
 * await db.close();
 * ```
 */
export async function openDb(path: string, options: OpenDbOptions = {}): Promise<Db> {
  checkCount('busyTimeoutMs', options.busyTimeoutMs, 0);
  checkCount('maxAttempts', options.maxAttempts, 1);
  checkCount('retryDelayMs', options.retryDelayMs, 0);
  checkCount('readConnections', options.readConnections, 1);
  checkCount('statementCacheSize', options.statementCacheSize, 0);
  checkCount('checkpointIntervalMs', options.checkpointIntervalMs, 0);
  if (
    options.checkpoint !== undefined &&
    options.checkpoint !== 'background' &&
    options.checkpoint !== 'commit'
  ) {
    throw newError(`checkpoint must be 'background' or 'commit'`, {
      code: DbErrorCodes.InvalidArgument,
    });
  }
  if (
    options.synchronous !== undefined &&
    options.synchronous !== 'full' &&
    options.synchronous !== 'normal'
  ) {
    throw newError(
      `synchronous must be 'full' or 'normal', not ${JSON.stringify(options.synchronous)}`,
      {
        code: DbErrorCodes.InvalidArgument,
      },
    );
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const logger = options.logger ?? silentLogger;
  const opened: Connection[] = [];
  const open = async (readonly: boolean): Promise<Connection> => {
    const conn = await Connection.open(path, options.statementCacheSize ?? 100);
    opened.push(conn);
    conn.busyTimeout(busyTimeoutMs);
    // Set per connection, before any transaction: neither pragma works inside one.
    await conn.run('PRAGMA foreign_keys = ON', [], false);
    await conn.run(
      `PRAGMA synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`,
      [],
      false,
    );
    if (readonly) await conn.run('PRAGMA query_only = ON', [], false);
    return conn;
  };
  try {
    const writer = await open(false);
    const mode = await writer.get<{ journal_mode: string }>('PRAGMA journal_mode = WAL', []);
    const version = await writer.get<{ v: string }>('select sqlite_version() as v', []);
    writer.clearCache();
    const readers: Connection[] = [];
    if (!isPrivateDatabase(path)) {
      if (mode?.journal_mode !== 'wal') {
        logger.warn(
          { path, journalMode: mode?.journal_mode },
          'sqlite refused WAL mode: readers will wait for writers',
        );
      }
      for (let i = 0; i < (options.readConnections ?? 4); i++) readers.push(await open(true));
    }
    let checkpointer: Connection | undefined;
    if (mode?.journal_mode === 'wal' && options.checkpoint !== 'commit') {
      await writer.run('PRAGMA wal_autocheckpoint = 0', [], false);
      checkpointer = await open(false);
    }
    return new SqliteDb(path, writer, readers, checkpointer, {
      logger,
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: options.retryDelayMs ?? 25,
      maxVariables: maxVariables(version?.v ?? ''),
      checkpointIntervalMs: options.checkpointIntervalMs ?? 200,
    });
  } catch (err) {
    await Promise.allSettled(opened.map((c) => c.close()));
    throw wrap(err, `opening database ${path}`, { code: DbErrorCodes.Open });
  }
}

/**
 * sqlite's default limit on bound variables per statement: 32766 since 3.32.0, 999 before
 * (a build may set another; these are the defaults of Debian's and node-sqlite3's builds).
 */
function maxVariables(version: string): number {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 32) ? 32766 : 999;
}

interface Settings {
  logger: Logger;
  maxAttempts: number;
  retryDelayMs: number;
  maxVariables: number;
  checkpointIntervalMs: number;
}

class SqliteDb implements Db {
  private readonly writePool: Pool<Connection>;
  private readonly readPool: Pool<Connection> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private active = 0;
  private idle: (() => void) | undefined;
  /** Bumped by each schema change; a connection behind it drops its cached statements. */
  private schemaGeneration = 0;
  private readonly generations = new Map<Connection, number>();
  private readonly limits: TxLimits;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointRunning: Promise<void> | undefined;
  private checkpoints = 0;

  constructor(
    readonly path: string,
    private readonly writer: Connection,
    private readonly readers: readonly Connection[],
    private readonly checkpointer: Connection | undefined,
    private readonly settings: Settings,
  ) {
    this.writePool = new Pool([writer]);
    this.readPool = readers.length > 0 ? new Pool(readers) : undefined;
    this.limits = {
      maxVariables: settings.maxVariables,
      onSchemaChange: (conn) => {
        this.schemaGeneration++;
        conn.clearCache();
        this.generations.set(conn, this.schemaGeneration);
      },
    };
  }

  stats(): DbStats {
    const total: StatementCacheStats = { size: 0, hits: 0, misses: 0, evictions: 0 };
    for (const conn of [this.writer, ...this.readers]) {
      const s = conn.stats();
      total.size += s.size;
      total.hits += s.hits;
      total.misses += s.misses;
      total.evictions += s.evictions;
    }
    return { statementCache: total, checkpoints: this.checkpoints };
  }

  /** After a write commit: a background checkpoint soon, unless one is already due. */
  private scheduleCheckpoint(): void {
    if (!this.checkpointer || this.checkpointTimer || this.closed) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.checkpointRunning = this.runCheckpoint();
    }, this.settings.checkpointIntervalMs);
    this.checkpointTimer.unref();
  }

  private async runCheckpoint(): Promise<void> {
    // one at a time: a commit during a checkpoint schedules the next one
    await this.checkpointRunning;
    try {
      // PASSIVE: copies what no reader still needs, never waits for or blocks the writer
      await this.checkpointer?.run('PRAGMA wal_checkpoint(PASSIVE)', [], false);
      this.checkpoints++;
    } catch (err) {
      this.settings.logger.warn(
        { err: wrapSqliteError(err, 'checkpoint') },
        'WAL checkpoint failed',
      );
    }
  }

  async do<T>(fn: (tx: Tx) => Promise<T>, options: DoOptions = {}): Promise<T> {
    if (this.closed) throw newError('database is closed', { code: DbErrorCodes.Closed });
    this.active++;
    try {
      return await this.run(fn, options);
    } finally {
      this.active--;
      if (this.active === 0) this.idle?.();
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      if (this.active > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      clearTimeout(this.checkpointTimer);
      await this.checkpointRunning;
      // The writer closes last: the last connection checkpoints the WAL into the database.
      const others = this.checkpointer ? [...this.readers, this.checkpointer] : this.readers;
      const results = await Promise.allSettled(others.map((c) => c.close()));
      results.push(...(await Promise.allSettled([this.writer.close()])));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw wrapSqliteError(failed.reason, `closing database ${this.path}`);
    })();
    return this.closing;
  }

  private async run<T>(fn: (tx: Tx) => Promise<T>, options: DoOptions): Promise<T> {
    const { signal } = options;
    const readonly = options.readonly ?? false;
    const autocommit = options.autocommit ?? false;
    if (autocommit && !readonly) {
      throw newError('autocommit is for read-only transactions', {
        code: DbErrorCodes.InvalidArgument,
      });
    }
    const pool = readonly && this.readPool ? this.readPool : this.writePool;
    const conn = await pool.acquire(signal, () => abortedError(signal));
    // statements prepared before another connection changed the schema are dropped
    if ((this.generations.get(conn) ?? 0) < this.schemaGeneration) {
      conn.clearCache();
      this.generations.set(conn, this.schemaGeneration);
    }
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(conn, fn, readonly, autocommit, signal);
        } catch (err) {
          if (!(err instanceof RetryableError)) throw withStack(err);
          // Cancelled while waiting for another process's lock: report the cancellation.
          if (signal?.aborted) throw abortedError(signal);
          if (attempt >= this.settings.maxAttempts) {
            throw wrap(err.err, `database is locked: gave up after ${attempt} attempts`, {
              code: DbErrorCodes.Busy,
            });
          }
          const delay = this.retryDelay(attempt);
          this.settings.logger.debug(
            { err: err.err, attempt, delayMs: delay, readonly },
            'database is locked: retrying the transaction',
          );
          await sleep(delay, signal);
        }
      }
    } finally {
      pool.release(conn);
    }
  }

  /** One run of the transaction; a busy failure is thrown as a {@link RetryableError}. */
  private async attempt<T>(
    conn: Connection,
    fn: (tx: Tx) => Promise<T>,
    readonly: boolean,
    autocommit: boolean,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (signal?.aborted) throw abortedError(signal);
    if (autocommit) return this.attemptAutocommit(conn, fn, signal);
    // The in-memory database has one connection: make it read-only for this transaction.
    const toggleQueryOnly = readonly && conn === this.writer;
    if (toggleQueryOnly) await conn.run('PRAGMA query_only = ON', []);
    try {
      try {
        // IMMEDIATE takes the write lock now, so a busy database fails here, before fn ran.
        await conn.run(readonly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE', []);
      } catch (err) {
        const wrapped = wrapSqliteError(err, 'begin');
        throw wrapped.code === DbErrorCodes.Busy ? new RetryableError(wrapped) : wrapped;
      }
      const tx = new Transaction(conn, readonly, signal, this.limits);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await tx.end();
        await this.rollback(conn);
        throw tx.sawBusy || is(err, DbErrorCodes.Busy) ? new RetryableError(err) : err;
      }
      await tx.end();
      if (signal?.aborted) {
        await this.rollback(conn);
        throw abortedError(signal);
      }
      try {
        await conn.run('COMMIT', []);
      } catch (err) {
        await this.rollback(conn);
        const wrapped = wrapSqliteError(err, 'commit');
        throw wrapped.code === DbErrorCodes.Busy ? new RetryableError(wrapped) : wrapped;
      }
      if (!readonly) this.scheduleCheckpoint();
      return result;
    } finally {
      if (toggleQueryOnly) await conn.run('PRAGMA query_only = OFF', []);
    }
  }

  /** A read-only run without BEGIN / COMMIT: every statement is its own transaction. */
  private async attemptAutocommit<T>(
    conn: Connection,
    fn: (tx: Tx) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const toggleQueryOnly = conn === this.writer;
    if (toggleQueryOnly) await conn.run('PRAGMA query_only = ON', []);
    try {
      const tx = new Transaction(conn, true, signal, this.limits);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await tx.end();
        throw tx.sawBusy || is(err, DbErrorCodes.Busy) ? new RetryableError(err) : err;
      }
      await tx.end();
      if (signal?.aborted) throw abortedError(signal);
      return result;
    } finally {
      if (toggleQueryOnly) await conn.run('PRAGMA query_only = OFF', []);
    }
  }

  private async rollback(conn: Connection): Promise<void> {
    try {
      await conn.run('ROLLBACK', []);
    } catch (err) {
      // sqlite already rolled back by itself (after an interrupt, a full disk...).
      if (err instanceof Error && /no transaction is active/i.test(err.message)) return;
      this.settings.logger.warn({ err: wrapSqliteError(err, 'rollback') }, 'rollback failed');
    }
  }

  private retryDelay(attempt: number): number {
    const base = Math.min(MAX_RETRY_DELAY_MS, this.settings.retryDelayMs * 2 ** (attempt - 1));
    return Math.round(base * (0.5 + Math.random() / 2));
  }
}

/** Marks an attempt that failed because the database was locked. */
class RetryableError {
  constructor(readonly err: unknown) {}
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

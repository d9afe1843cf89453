import { newError, wrap, type AgolaError } from '@agola-ts/errors';
import { DbErrorCodes } from './codes.js';
import type { Connection, PreparedStatement, RunResult } from './connection.js';
import { sqliteCode, wrapSqliteError } from './errors.js';
import { bindParams, type SqlParams, type SqlValue } from './params.js';
import { statementName } from './statement-name.js';

/** Options of one statement. */
export interface QueryOptions {
  /**
   * The statement's name in error messages and logs. By default its first keyword and table
   * (`insert into user`). Never put parameter values in it.
   */
  name?: string;
}

/**
 * One transaction, given to the function passed to `db.do`. Every method checks the
 * transaction's signal first and fails with `ERR_DB_ABORTED` once it has fired; a statement
 * running when it fires is interrupted. Once `db.do`'s function has returned or thrown, every
 * method fails with `ERR_DB_TX_DONE`.
 *
 * Statement errors are `AgolaError`s whose message is the statement's name and whose cause
 * is the sqlite error (`SQLITE_CONSTRAINT: UNIQUE constraint failed: user.name`); parameter
 * values never appear in them.
 */
export interface Tx {
  /** True for a read-only transaction (`db.do(fn, { readonly: true })`). */
  readonly readonly: boolean;
  /** The signal passed to `db.do`, to hand to other I/O done inside the transaction. */
  readonly signal: AbortSignal | undefined;

  /**
   * Runs one statement (insert, update, delete, DDL) and returns how many rows it changed and
   * the last inserted rowid. Only the first statement of `sql` runs: use {@link Tx.execScript}
   * for several.
   *
   * @throws `ERR_DB_CONSTRAINT`, `ERR_DB_QUERY`, `ERR_DB_READONLY`, `ERR_DB_BUSY`,
   * `ERR_DB_ABORTED`, `ERR_DB_TX_DONE`, `ERR_DB_INVALID_ARGUMENT` (a missing named parameter).
   * @example
   * ```ts
   * const { changes } = await tx.exec('update user set name = $name where id = $id', { id, name });
   * ```
   */
  exec(sql: string, params?: SqlParams, options?: QueryOptions): Promise<RunResult>;

  /**
   * The first row of a query, or `undefined` when there is none.
   *
   * @example
   * ```ts
   * const user = await tx.get<{ id: string; data: string }>('select * from user where id = ?', [id]);
   * ```
   */
  get<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): Promise<T | undefined>;

  /** Every row of a query, in memory. For large results see {@link Tx.each} and {@link Tx.iterate}. */
  all<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): Promise<T[]>;

  /**
   * Streams the rows of a query to a synchronous callback without holding them in memory,
   * and resolves with their count. The fastest way through a large result; if `onRow`
   * throws, the remaining rows are skipped and the promise rejects with that error.
   */
  each<T = Record<string, unknown>>(
    sql: string,
    params: SqlParams | undefined,
    onRow: (row: T) => void,
    options?: QueryOptions,
  ): Promise<number>;

  /**
   * The rows of a query as an async iterator, fetched one at a time (backpressure: nothing is
   * read ahead). Slower per row than {@link Tx.each}, but the loop body may await. Breaking
   * out of the loop releases the statement.
   *
   * @example
   * ```ts
   * for await (const row of tx.iterate<{ id: string }>('select id from run order by id')) {
   *   await handle(row.id);
   * }
   * ```
   */
  iterate<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): AsyncIterableIterator<T>;

  /**
   * Inserts many rows with multi-row statements (`<head> values (?, ?), (?, ?), ...`): one
   * statement per chunk of rows instead of one per row, each chunk within sqlite's limit on
   * bound variables (and `maxRowsPerStatement`). `head` is the statement up to `values`
   * (`insert or replace into entries (datatype, id, data)`); every row has one value per
   * column. Resolves with the rows changed in total. The chunks run one after the other in
   * this transaction, in order, so a later row of the same key wins with `or replace`; the
   * next chunk's values are bound while sqlite inserts the previous one. When a chunk fails,
   * the rows of the chunks before it (and possibly of the next one) are in: roll the
   * transaction back (an error thrown out of `db.do` does).
   *
   * @throws `ERR_DB_INVALID_ARGUMENT` when rows differ in length; the statement errors of
   * {@link Tx.exec}.
   * @example
   * ```ts
   * await tx.insertMany('insert or replace into user (id, name)', users.map((u) => [u.id, u.name]));
   * ```
   */
  insertMany(
    head: string,
    rows: readonly (readonly SqlValue[])[],
    options?: InsertManyOptions,
  ): Promise<{ changes: number }>;

  /** Runs several `;`-separated statements without parameters (schema scripts). */
  execScript(sql: string, options?: QueryOptions): Promise<void>;
}

/** Options of {@link Tx.insertMany}. */
export interface InsertManyOptions extends QueryOptions {
  /**
   * The most rows in one statement (fewer when the columns would exceed sqlite's limit on
   * bound variables). Bigger statements take longer to build and bind for little gain.
   *
   * @default 500
   */
  maxRowsPerStatement?: number;
}

/** Rows per multi-row statement by default. */
const DEFAULT_ROWS_PER_STATEMENT = 500;

/** A statement that changes the schema (after it, cached statements are dropped). */
const DDL = /^\s*(?:create|drop|alter)\s/i;

/** rows[start, start + count) as one array of values, row after row (`slice().flat()` without the copies). */
function flatRows(
  rows: readonly (readonly SqlValue[])[],
  start: number,
  count: number,
  columns: number,
): SqlValue[] {
  const out = new Array<SqlValue>(count * columns);
  let k = 0;
  for (let r = start; r < start + count; r++) {
    const row = rows[r]!;
    for (let c = 0; c < columns; c++) out[k++] = row[c]!;
  }
  return out;
}

/** The ERR_DB_ABORTED error of a cancelled transaction; the cause is the signal's reason. */
export function abortedError(signal: AbortSignal | undefined, what = 'transaction'): AgolaError {
  return wrap(signal?.reason ?? new Error('aborted'), `${what} cancelled`, {
    code: DbErrorCodes.Aborted,
  });
}

/** What a transaction needs from its database. */
export interface TxLimits {
  /** The most variables sqlite binds in one statement. */
  maxVariables: number;
  /** Called after a statement that may have changed the schema ran on `conn`. */
  onSchemaChange(conn: Connection): void;
}

/** The implementation of {@link Tx}; `db.do` ends it with {@link Transaction.end}. */
export class Transaction implements Tx {
  /** Set when a statement failed with SQLITE_BUSY / SQLITE_LOCKED: the attempt is retryable. */
  sawBusy = false;
  private done = false;
  private running = 0;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly statements = new Set<PreparedStatement>();
  private readonly onAbort = (): void => {
    // Only interrupt our own statements: with none running, interrupt is a no-op anyway.
    if (this.running > 0) this.conn.interrupt();
  };

  constructor(
    private readonly conn: Connection,
    readonly readonly: boolean,
    readonly signal: AbortSignal | undefined,
    private readonly limits: TxLimits,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  async exec(sql: string, params?: SqlParams, options?: QueryOptions): Promise<RunResult> {
    const result = await this.call(sql, options, () => this.conn.run(sql, bindParams(sql, params)));
    if (DDL.test(sql)) this.limits.onSchemaChange(this.conn);
    return result;
  }

  async insertMany(
    head: string,
    rows: readonly (readonly SqlValue[])[],
    options?: InsertManyOptions,
  ): Promise<{ changes: number }> {
    const first = rows[0];
    if (first === undefined) return { changes: 0 };
    const columns = first.length;
    if (columns === 0 || rows.some((r) => r.length !== columns)) {
      throw newError('insertMany: every row needs the same number of values, at least one', {
        code: DbErrorCodes.InvalidArgument,
      });
    }
    const perStatement = Math.max(
      1,
      Math.min(
        options?.maxRowsPerStatement ?? DEFAULT_ROWS_PER_STATEMENT,
        Math.floor(this.limits.maxVariables / columns),
      ),
    );
    const tuple = `(${new Array<string>(columns).fill('?').join(', ')})`;
    const name = options?.name ?? `${statementName(head)} (multi-row)`;
    const fullSql = `${head} values ${new Array<string>(perStatement).fill(tuple).join(', ')}`;
    let changes = 0;
    // the full-size chunks go through one prepared statement, queued two at a time: the next
    // chunk's values are bound while sqlite inserts the previous one
    const fullChunks = Math.floor(rows.length / perStatement);
    if (fullChunks > 0) {
      const values: unknown[] = [];
      for (let c = 0; c < fullChunks; c++) {
        values.push(bindParams(fullSql, flatRows(rows, c * perStatement, perStatement, columns)));
      }
      changes += await this.call(fullSql, { name }, () =>
        fullChunks === 1
          ? this.conn.run(fullSql, values[0], true).then((r) => r.changes)
          : this.conn.runQueued(fullSql, values),
      );
    }
    const rest = rows.slice(fullChunks * perStatement);
    if (rest.length > 0) {
      // only the full-size statement is worth keeping prepared: the last chunk's size varies
      const sql = `${head} values ${new Array<string>(rest.length).fill(tuple).join(', ')}`;
      const values = bindParams(sql, rest.flat());
      changes += (await this.call(sql, { name }, () => this.conn.run(sql, values, false))).changes;
    }
    return { changes };
  }

  get<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): Promise<T | undefined> {
    return this.call(sql, options, () => this.conn.get<T>(sql, bindParams(sql, params)));
  }

  all<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): Promise<T[]> {
    return this.call(sql, options, () => this.conn.all<T>(sql, bindParams(sql, params)));
  }

  each<T = Record<string, unknown>>(
    sql: string,
    params: SqlParams | undefined,
    onRow: (row: T) => void,
    options?: QueryOptions,
  ): Promise<number> {
    let rowError: { err: unknown } | undefined;
    const guarded = (row: T): void => {
      try {
        onRow(row);
      } catch (err) {
        rowError = { err };
        throw err;
      }
    };
    return this.call(sql, options, async () => {
      try {
        return await this.conn.each<T>(sql, bindParams(sql, params), guarded);
      } catch (err) {
        // The callback's own error is not a sqlite error: pass it on unwrapped.
        if (rowError) throw new CallbackError(rowError.err);
        throw err;
      }
    });
  }

  async *iterate<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
    options?: QueryOptions,
  ): AsyncIterableIterator<T> {
    const name = options?.name ?? statementName(sql);
    const stmt = await this.call(sql, { name }, () =>
      this.conn.prepare(sql, bindParams(sql, params)),
    );
    this.statements.add(stmt);
    try {
      for (;;) {
        const row = await this.call(sql, { name }, () => stmt.next<T>());
        if (row === undefined) return;
        yield row;
      }
    } finally {
      this.statements.delete(stmt);
      await stmt.finalize();
    }
  }

  async execScript(sql: string, options?: QueryOptions): Promise<void> {
    try {
      await this.call(sql, options, () => this.conn.execScript(sql));
    } finally {
      // a script may change the schema even when a later statement of it failed
      this.limits.onSchemaChange(this.conn);
    }
  }

  /**
   * Ends the handle: later calls fail, statements still running are awaited and open
   * iterators released, so COMMIT or ROLLBACK run on a quiet connection.
   */
  async end(): Promise<void> {
    this.done = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await Promise.all([...this.statements].map((s) => s.finalize()));
    this.statements.clear();
    await this.conn.settle();
  }

  private async call<R>(
    sql: string,
    options: QueryOptions | undefined,
    fn: () => Promise<R>,
  ): Promise<R> {
    // the name is only needed for an error: derive it then, not on every call
    const name = (): string => options?.name ?? statementName(sql);
    if (this.done) {
      throw wrap(new Error('transaction already ended'), name(), { code: DbErrorCodes.TxDone });
    }
    if (this.signal?.aborted) throw abortedError(this.signal);
    this.running++;
    let p: Promise<R> | undefined;
    try {
      p = fn();
      this.pending.add(p);
      return await p;
    } catch (err) {
      if (err instanceof CallbackError) throw err.err;
      if (this.signal?.aborted && sqliteCode(err) === 'SQLITE_INTERRUPT') {
        throw wrap(abortedError(this.signal), name());
      }
      if (sqliteCode(err) === undefined) throw err; // our own (parameter) errors
      const wrapped = wrapSqliteError(err, name());
      if (wrapped.code === DbErrorCodes.Busy) this.sawBusy = true;
      throw wrapped;
    } finally {
      this.running--;
      if (p) this.pending.delete(p);
    }
  }
}

/** Carries an error thrown by an `each` callback through the statement wrapper untouched. */
class CallbackError {
  constructor(readonly err: unknown) {}
}

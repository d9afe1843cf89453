import sqlite3 from 'sqlite3';

/** What `exec` returns: rows changed and the rowid of the last insert. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  changes: number;
  /** The rowid of the last inserted row (meaningful after an insert only). */
  lastID: number;
}

/**
 * One sqlite connection with promise methods. node-sqlite3 runs each statement on the libuv
 * thread pool; statements of one connection run one at a time.
 */
export class Connection {
  private constructor(private readonly db: sqlite3.Database) {}

  /** Opens (and creates) the database file. */
  static open(path: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(
        path,
        sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE | sqlite3.OPEN_FULLMUTEX,
        (err) => (err ? reject(err) : resolve(new Connection(db))),
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

  run(sql: string, params: unknown): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  get<T>(sql: string, params: unknown): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params, (err: Error | null, row: T | undefined) =>
        err ? reject(err) : resolve(row),
      );
    });
  }

  all<T>(sql: string, params: unknown): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: T[]) =>
        err ? reject(err) : resolve(rows),
      );
    });
  }

  /**
   * Streams rows to `onRow` as sqlite produces them. The first exception thrown by `onRow`
   * rejects the promise; later rows are dropped.
   */
  each<T>(sql: string, params: unknown, onRow: (row: T) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      let failure: { err: unknown } | undefined;
      this.db.each(
        sql,
        params,
        (err: Error | null, row: T) => {
          if (err || failure) return;
          try {
            onRow(row);
          } catch (e) {
            failure = { err: e };
          }
        },
        (err: Error | null, count: number) => {
          if (err) reject(err);
          else if (failure) reject(failure.err);
          else resolve(count);
        },
      );
    });
  }

  /** Runs several `;`-separated statements without parameters. */
  execScript(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => (err ? reject(err) : resolve()));
    });
  }

  prepare(sql: string, params: unknown): Promise<PreparedStatement> {
    return new Promise((resolve, reject) => {
      const stmt: sqlite3.Statement = this.db.prepare(sql, params, (err: Error | null) =>
        err ? reject(err) : resolve(new PreparedStatement(stmt)),
      );
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.close((err) => (err ? reject(err) : resolve()));
    });
  }
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

/** Error codes of `@agola-ts/db` (documented in docs/errors.md). */
export const DbErrorCodes = {
  /**
   * The database stayed locked (SQLITE_BUSY / SQLITE_LOCKED) by another connection or process
   * through every attempt of a transaction.
   */
  Busy: 'ERR_DB_BUSY',
  /** A statement broke a constraint (unique, primary key, foreign key, not null, check). */
  Constraint: 'ERR_DB_CONSTRAINT',
  /** Any other failure of a statement (syntax error, missing table, type mismatch, I/O). */
  Query: 'ERR_DB_QUERY',
  /** A read-only transaction tried to write. */
  Readonly: 'ERR_DB_READONLY',
  /** The transaction was cancelled through its signal and rolled back. */
  Aborted: 'ERR_DB_ABORTED',
  /** The database was used after `close()`. */
  Closed: 'ERR_DB_CLOSED',
  /** A transaction handle was used after its transaction had ended. */
  TxDone: 'ERR_DB_TX_DONE',
  /** The database file could not be opened or configured. */
  Open: 'ERR_DB_OPEN',
  /** A migration failed; its changes were rolled back and the version is unchanged. */
  Migration: 'ERR_DB_MIGRATION',
  /** The database has a schema version newer than the code's last migration. */
  TooNew: 'ERR_DB_TOO_NEW',
  /** A bad argument: options, parameters or a migration list. */
  InvalidArgument: 'ERR_DB_INVALID_ARGUMENT',
} as const;

/** One of the {@link DbErrorCodes}. */
export type DbErrorCode = (typeof DbErrorCodes)[keyof typeof DbErrorCodes];

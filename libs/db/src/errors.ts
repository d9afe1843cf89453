import { is, wrap, type AgolaError } from '@agola-ts/errors';
import { DbErrorCodes, type DbErrorCode } from './codes.js';

/** The sqlite primary result code of a node-sqlite3 error (`SQLITE_BUSY`...), if any. */
export function sqliteCode(err: unknown): string | undefined {
  const code =
    err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** Our code for a sqlite error. */
export function codeOfSqliteError(err: unknown): DbErrorCode {
  const message = err instanceof Error ? err.message : '';
  switch (sqliteCode(err)) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return DbErrorCodes.Busy;
    case 'SQLITE_CONSTRAINT':
      return DbErrorCodes.Constraint;
    case 'SQLITE_READONLY':
      return DbErrorCodes.Readonly;
    case 'SQLITE_INTERRUPT':
      return DbErrorCodes.Aborted;
    case 'SQLITE_MISUSE':
      return /closed/i.test(message) ? DbErrorCodes.Closed : DbErrorCodes.Query;
    default:
      return DbErrorCodes.Query;
  }
}

/**
 * Wraps a node-sqlite3 error at the boundary: the message names the statement (never its
 * parameter values), the code says what kind of failure it was, the sqlite error is the cause.
 */
export function wrapSqliteError(err: unknown, statement: string): AgolaError {
  return wrap(err, statement, { code: codeOfSqliteError(err) });
}

/**
 * True when a statement broke a constraint (unique, primary key, foreign key, not null,
 * check): some element of the error chain has the code `ERR_DB_CONSTRAINT`.
 *
 * @example
 * ```ts
 * try {
 *   await db.do((tx) => tx.exec('insert into user (id, name) values (?, ?)', [id, name]));
 * } catch (err) {
 *   if (isConstraintError(err)) throw badRequest(`user ${name} already exists`, { cause: err });
 *   throw err;
 * }
 * ```
 */
export function isConstraintError(err: unknown): boolean {
  return is(err, DbErrorCodes.Constraint);
}

/** True when the database stayed locked through every attempt (`ERR_DB_BUSY` in the chain). */
export function isBusyError(err: unknown): boolean {
  return is(err, DbErrorCodes.Busy);
}

/** True when a transaction was cancelled through its signal (`ERR_DB_ABORTED` in the chain). */
export function isAbortedError(err: unknown): boolean {
  return is(err, DbErrorCodes.Aborted);
}

/** True when the database was used after `close()` (`ERR_DB_CLOSED` in the chain). */
export function isClosedError(err: unknown): boolean {
  return is(err, DbErrorCodes.Closed);
}

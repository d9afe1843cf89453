import { newError } from '@agola-ts/errors';
import { DbErrorCodes } from './codes.js';
import { stripLiterals } from './statement-name.js';

/**
 * A value sqlite can bind: numbers, strings, booleans (as 0/1), bytes, dates (as ms), null,
 * and bigints within `Number.MAX_SAFE_INTEGER` (bound as numbers).
 */
export type SqlValue = string | number | bigint | boolean | null | Buffer | Uint8Array | Date;

/**
 * The parameters of a statement: positional (`?`, `?1`) as an array, or named (`$name`,
 * `:name`, `@name`) as an object whose keys are the names with or without their prefix.
 * Keys the statement does not use are ignored, so an entity object can be passed as is.
 */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue | undefined>>;

const NAMED = /[$:@]([A-Za-z_][A-Za-z0-9_]*)/g;

/** How many statements' parameter lists are remembered (they are parsed once per text). */
const NAMES_MEMO_SIZE = 1000;
const namesMemo = new Map<string, readonly string[]>();

/** The distinct named parameters (`$id`, `:id`, `@id`) of a statement, parsed once per text. */
function namedParameters(sql: string): readonly string[] {
  let names = namesMemo.get(sql);
  if (names === undefined) {
    names = [...new Set([...stripLiterals(sql).matchAll(NAMED)].map((m) => m[0]))];
    if (namesMemo.size >= NAMES_MEMO_SIZE) namesMemo.clear();
    namesMemo.set(sql, names);
  }
  return names;
}

/**
 * Turns our parameters into what node-sqlite3 binds: arrays as they are, objects keyed by the
 * prefixed names the SQL uses. A named parameter the SQL uses but the object lacks is an error
 * (sqlite would silently bind NULL). Error messages name parameters, never their values.
 */
export function bindParams(sql: string, params: SqlParams | undefined): unknown {
  if (params === undefined) return [];
  if (Array.isArray(params)) {
    return params.some((v) => typeof v === 'bigint')
      ? params.map((v, i) => bindValue(v, `parameter ${i + 1}`))
      : params;
  }
  const values = params as Readonly<Record<string, SqlValue | undefined>>;
  const out: Record<string, unknown> = {};
  for (const prefixed of namedParameters(sql)) {
    const bare = prefixed.slice(1);
    const value = Object.hasOwn(values, prefixed) ? values[prefixed] : values[bare];
    if (value === undefined && !Object.hasOwn(values, prefixed) && !Object.hasOwn(values, bare)) {
      throw newError(`missing named parameter ${prefixed}`, {
        code: DbErrorCodes.InvalidArgument,
      });
    }
    out[prefixed] = value === undefined ? null : bindValue(value, `parameter ${prefixed}`);
  }
  return out;
}

/**
 * node-sqlite3 binds a bigint as NULL without a word: pass safe-range bigints as numbers and
 * refuse the others rather than lose them.
 */
function bindValue(value: SqlValue, what: string): unknown {
  if (typeof value !== 'bigint') return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw newError(`${what}: bigint outside the safe integer range cannot be bound`, {
      code: DbErrorCodes.InvalidArgument,
    });
  }
  return Number(value);
}

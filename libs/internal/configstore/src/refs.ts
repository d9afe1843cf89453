import type { Tx } from '@agola-ts/db';
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  isUuid,
  type Org,
  type RemoteSource,
  type User,
} from '@agola-ts/types';
import { invalid } from './errors.js';
import { queries, type PageQuery } from './readdb.js';

/** A user by ref: an id when it parses as a UUID, else a name. */
export function userByRef(tx: Tx, ref: string): Promise<User | undefined> {
  return isUuid(ref) ? queries.userById(tx, ref) : queries.userByName(tx, ref);
}

/** An org by ref (id or name). */
export function orgByRef(tx: Tx, ref: string): Promise<Org | undefined> {
  return isUuid(ref) ? queries.orgById(tx, ref) : queries.orgByName(tx, ref);
}

/** A remote source by ref (id or name). */
export function remoteSourceByRef(tx: Tx, ref: string): Promise<RemoteSource | undefined> {
  return isUuid(ref) ? queries.remoteSourceById(tx, ref) : queries.remoteSourceByName(tx, ref);
}

/** Parses `limit`, `start` and `asc` of a paged list (Agola's rules). */
export function pageQuery(query: Record<string, unknown>): PageQuery {
  const rawLimit = query['limit'];
  let limit = DEFAULT_LIST_LIMIT;
  if (rawLimit !== undefined && rawLimit !== '') {
    if (typeof rawLimit !== 'string' || !/^\d+$/.test(rawLimit)) {
      throw invalid('limit must be a non-negative integer');
    }
    const n = Number(rawLimit);
    limit = n === 0 ? DEFAULT_LIST_LIMIT : Math.min(n, MAX_LIST_LIMIT);
  }
  const start = query['start'];
  if (start !== undefined && typeof start !== 'string') throw invalid('start must be a string');
  // as Agola: the presence of `asc` asks for ascending order ("false" and "0" too are honoured as no)
  const asc = query['asc'];
  const ascending = asc !== undefined && asc !== 'false' && asc !== '0';
  return { limit, start, asc: ascending };
}

/** A query string parameter as one string. */
export function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`query parameter ${name} must be given once`);
  return v;
}

import { RUN_PHASES, RUN_RESULTS } from '@agola-ts/types';
import type { RunPhase, RunResult } from '@agola-ts/types';
import { invalid } from './errors.js';

/** Runs per page by default (as Agola). */
export const DEFAULT_RUNS_LIMIT = 25;
/** The most runs per page (as Agola). */
export const MAX_RUNS_LIMIT = 40;

/** A parsed query string: every key with all its values (repeatable keys). */
export type Query = Map<string, string[]>;

/** Reads fastify's query object (strings or arrays of strings) into a {@link Query}. */
export function queryOf(raw: unknown): Query {
  const q: Query = new Map();
  if (raw === null || typeof raw !== 'object') return q;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const values = Array.isArray(v) ? v : [v];
    q.set(
      k,
      values.map((x) => (typeof x === 'string' ? x : String(x))),
    );
  }
  return q;
}

/** The first value of a key, or undefined. */
export function first(q: Query, key: string): string | undefined {
  return q.get(key)?.[0];
}

/** `limit`: default 25 (0: the most), at most 40, a non-negative integer. */
export function limitOf(q: Query): number {
  const s = first(q, 'limit');
  if (s === undefined || s === '') return DEFAULT_RUNS_LIMIT;
  if (!/^\d{1,9}$/.test(s)) throw invalid('limit must be a non-negative integer');
  const n = Number(s);
  return n === 0 ? MAX_RUNS_LIMIT : Math.min(n, MAX_RUNS_LIMIT);
}

/** The repeatable `phase` filter. */
export function phasesOf(q: Query): RunPhase[] {
  const out: RunPhase[] = [];
  for (const p of q.get('phase') ?? []) {
    if (!(RUN_PHASES as readonly string[]).includes(p)) {
      throw invalid(`phase ${JSON.stringify(p.slice(0, 40))} is not a run phase`);
    }
    out.push(p as RunPhase);
  }
  return out;
}

/** The repeatable `result` filter. */
export function resultsOf(q: Query): RunResult[] {
  const out: RunResult[] = [];
  for (const r of q.get('result') ?? []) {
    if (!(RUN_RESULTS as readonly string[]).includes(r)) {
      throw invalid(`result ${JSON.stringify(r.slice(0, 40))} is not a run result`);
    }
    out.push(r as RunResult);
  }
  return out;
}

/** The repeatable `changegroup` list (names checked by the token code). */
export function changeGroupsOf(q: Query): string[] {
  const groups = q.get('changegroup') ?? [];
  if (groups.length > 100) throw invalid('too many changegroup values');
  return groups;
}

/** A non-negative integer query value, or undefined. */
export function intOf(q: Query, key: string): number | undefined {
  const s = first(q, key);
  if (s === undefined || s === '') return undefined;
  if (!/^\d{1,15}$/.test(s)) throw invalid(`${key} must be a non-negative integer`);
  return Number(s);
}

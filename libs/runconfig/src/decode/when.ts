import type { When, WhenCondition, WhenConditions } from '../types.js';
import type { PathSegment } from '../path.js';
import { compileWhenRegExp } from '../when.js';
import { isMap, kindOf, type Reader } from './reader.js';

const DELIMITERS = ['/', '#'];

/** Whether a condition string is a regular expression: wrapped in `/…/` or `#…#`, longer than 2. */
export function isRegExpCondition(s: string): boolean {
  return s.length > 2 && DELIMITERS.some((d) => s.startsWith(d) && s.endsWith(d));
}

function decodeCondition(
  r: Reader,
  s: string,
  path: readonly PathSegment[],
): WhenCondition | undefined {
  if (!isRegExpCondition(s)) return { type: 'simple', match: s };
  const match = s.slice(1, -1);
  try {
    compileWhenRegExp(match);
  } catch (err) {
    r.fail(path, `invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
    return undefined;
  }
  return { type: 'regexp', match };
}

function stringOrList(r: Reader, raw: unknown, path: readonly PathSegment[]): WhenCondition[] {
  if (raw === undefined || raw === null) return [];
  const items: [string, PathSegment[]][] = [];
  if (typeof raw === 'string') items.push([raw, [...path]]);
  else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') items.push([item, [...path, i]]);
      else r.fail([...path, i], `expected a string, got ${kindOf(item)}`);
    });
  } else {
    r.fail(path, `expected a string or a list of strings, got ${kindOf(raw)}`);
  }
  const out: WhenCondition[] = [];
  for (const [s, p] of items) {
    const c = decodeCondition(r, s, p);
    if (c) out.push(c);
  }
  return out;
}

function decodeConditions(r: Reader, raw: unknown, path: readonly PathSegment[]): WhenConditions {
  if (isMap(raw)) {
    const out: WhenConditions = { include: [], exclude: [] };
    r.knownKeys(raw, path, ['include', 'exclude']);
    out.include = stringOrList(r, raw['include'], [...path, 'include']);
    out.exclude = stringOrList(r, raw['exclude'], [...path, 'exclude']);
    return out;
  }
  if (typeof raw === 'string' || Array.isArray(raw)) {
    return { include: stringOrList(r, raw, path), exclude: [] };
  }
  r.fail(path, `expected a string, a list of strings or {include, exclude}, got ${kindOf(raw)}`);
  return { include: [], exclude: [] };
}

/** Decodes a `when` block (`branch`, `tag`, `ref`). */
export function decodeWhen(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): When | undefined {
  const map = r.map(raw, path);
  if (!map) return undefined;
  r.knownKeys(map, path, ['branch', 'tag', 'ref']);
  const when: When = {};
  for (const key of ['branch', 'tag', 'ref'] as const) {
    const v = map[key];
    if (v !== undefined && v !== null) when[key] = decodeConditions(r, v, [...path, key]);
  }
  return when;
}

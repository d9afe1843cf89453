import type { ConfigIssue } from '../errors.js';
import { formatPath, type PathSegment } from '../path.js';

/**
 * Finds the 1-based line and column of the node at a path (or of its nearest existing
 * parent), when the source is known. With `key`, the position of the last segment's key
 * instead of its value.
 */
export type Locator = (
  path: readonly PathSegment[],
  options?: { key?: boolean },
) => { line: number; column: number } | undefined;

/** A plain map (object) of the document. */
export type DocMap = Record<string, unknown>;

/**
 * Collects issues while the document is decoded, so one pass reports every problem with
 * its path instead of stopping at the first one.
 */
export class Reader {
  readonly issues: ConfigIssue[] = [];

  constructor(
    private readonly locate?: Locator,
    private readonly file?: string,
  ) {}

  /** Records an issue at `path` (at its key with `key`). */
  fail(path: readonly PathSegment[], message: string, options: { key?: boolean } = {}): void {
    const issue: ConfigIssue = { path: formatPath(path), message };
    if (this.file !== undefined) issue.file = this.file;
    if (this.locate) {
      // An empty document has no node at all: its problems are at its start.
      const pos = this.locate(path, options) ?? { line: 1, column: 1 };
      issue.line = pos.line;
      issue.column = pos.column;
    }
    this.issues.push(issue);
  }

  /**
   * Reports every key of `map` that is not in `known` as an unknown key, suggesting the
   * nearest known one (`unknown key "step" (did you mean "steps"?)`).
   */
  knownKeys(map: DocMap, path: readonly PathSegment[], known: readonly string[]): void {
    for (const key of Object.keys(map)) {
      if (known.includes(key)) continue;
      const near = nearestKey(key, known);
      this.fail(
        [...path, key],
        near === undefined
          ? `unknown key ${JSON.stringify(key)} (known keys: ${known.join(', ')})`
          : `unknown key ${JSON.stringify(key)} (did you mean ${JSON.stringify(near)}?)`,
        { key: true },
      );
    }
  }

  /** A string, or undefined when absent (null counts as absent, as in Go's JSON decoding). */
  string(value: unknown, path: readonly PathSegment[]): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    this.fail(path, `expected a string, got ${kindOf(value)}`);
    return undefined;
  }

  /** A boolean, false when absent. */
  bool(value: unknown, path: readonly PathSegment[]): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    this.fail(path, `expected a boolean, got ${kindOf(value)}`);
    return false;
  }

  /** A list, or undefined when absent. */
  list(value: unknown, path: readonly PathSegment[]): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    this.fail(path, `expected a list, got ${kindOf(value)}`);
    return undefined;
  }

  /** A map, or undefined when absent. */
  map(value: unknown, path: readonly PathSegment[]): DocMap | undefined {
    if (value === undefined || value === null) return undefined;
    if (isMap(value)) return value;
    this.fail(path, `expected a map, got ${kindOf(value)}`);
    return undefined;
  }

  /** A list of strings (absent: empty). */
  strings(value: unknown, path: readonly PathSegment[]): string[] {
    const items = this.list(value, path) ?? [];
    const out: string[] = [];
    items.forEach((item, i) => {
      const s = this.string(item, [...path, i]);
      if (s !== undefined) out.push(s);
      else if (item === null || item === undefined)
        this.fail([...path, i], 'expected a string, got null');
    });
    return out;
  }
}

/** Keys longer than this are never compared (the distance costs length × length). */
const MAX_SUGGEST_LENGTH = 64;

/**
 * The known key nearest to a misspelt one: the smallest edit distance (insert, delete,
 * substitute, swap of neighbours), if it is at most a third of the longer key (and at
 * least 1 edit is allowed); ties go to the first in `known`.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  if (key.length > MAX_SUGGEST_LENGTH) return undefined;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const limit = Math.max(1, Math.floor(Math.max(candidate.length, key.length) / 3));
    const d = editDistance(lower, candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Whether a document value is a map. */
export function isMap(value: unknown): value is DocMap {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** A short name of a value's kind for messages (`a number`, `a list`). */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

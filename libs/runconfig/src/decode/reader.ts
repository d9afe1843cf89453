import type { ConfigIssue } from '../errors.js';
import { formatPath, type PathSegment } from '../path.js';

/** Finds the 1-based line and column of the node at a path, when the source is known. */
export type Locator = (
  path: readonly PathSegment[],
) => { line: number; column: number } | undefined;

/** A plain map (object) of the document. */
export type DocMap = Record<string, unknown>;

/**
 * Collects issues while the document is decoded, so one pass reports every problem with
 * its path instead of stopping at the first one.
 */
export class Reader {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly locate?: Locator) {}

  /** Records an issue at `path`. */
  fail(path: readonly PathSegment[], message: string): void {
    const issue: ConfigIssue = { path: formatPath(path), message };
    const pos = this.locate?.(path);
    if (pos) {
      issue.line = pos.line;
      issue.column = pos.column;
    }
    this.issues.push(issue);
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

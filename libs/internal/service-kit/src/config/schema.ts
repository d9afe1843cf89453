/**
 * A tiny validator for config files. Each schema checks a value at a key path, records what is
 * wrong as `path: message` and returns the (possibly converted) value. Hand-written rather
 * than a library: config needs only a dozen shapes, and the messages must name the key by
 * its full path in the file's own terms.
 */
export interface Schema<T> {
  /** Checks `value` (found at `path`), pushing issues; the result is meaningless if it pushed any. */
  check(value: unknown, path: string, issues: string[]): T;
  /** What the value must be, for messages (`a string`, `a list of URLs`). */
  readonly expected: string;
}

/** The type a schema yields. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: undefined extends Infer<S[K]> ? K : never;
}[keyof S];

/** The output of an {@link object} schema: keys whose schema accepts undefined are optional. */
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: Infer<S[K]>;
  }
>;

/** `parent.key`, or `key` at the root. */
export function keyPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function issue(issues: string[], path: string, message: string): void {
  issues.push(path === '' ? message : `${path}: ${message}`);
}

/** A schema for a value that is either missing (`is required`) or checked by `test`. */
export function scalar<T>(expected: string, test: (value: unknown) => T | undefined): Schema<T> {
  return {
    expected,
    check(value, path, issues) {
      if (value === undefined || value === null) {
        issue(issues, path, 'is required');
        return undefined as T;
      }
      const result = test(value);
      if (result === undefined) issue(issues, path, `must be ${expected}`);
      return result as T;
    },
  };
}

/** A string (non-empty). */
export function string(): Schema<string> {
  return scalar('a non-empty string', (v) => (typeof v === 'string' && v !== '' ? v : undefined));
}

/** `true` or `false`. */
export function boolean(): Schema<boolean> {
  return scalar('true or false', (v) => (typeof v === 'boolean' ? v : undefined));
}

/** An integer, at least `min`. */
export function integer(min = 0): Schema<number> {
  return scalar(`an integer >= ${min}`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined,
  );
}

/** One of the given strings. */
export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return scalar(`one of ${list}`, (v) => (values.includes(v as T) ? (v as T) : undefined));
}

function parseUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || !URL.canParse(v)) return undefined;
  const { protocol } = new URL(v);
  return protocol === 'http:' || protocol === 'https:' ? v : undefined;
}

/** An http(s) URL. */
export function url(): Schema<string> {
  return scalar('an http or https URL', parseUrl);
}

/** A list of http(s) URLs, given as a YAML list or, as in Agola, a comma-separated string. */
export function urlList(): Schema<string[]> {
  return scalar('a list of URLs', (v) => {
    const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
    if (!Array.isArray(items) || items.length === 0) return undefined;
    const urls = items.map(parseUrl);
    return urls.every((u) => u !== undefined) ? (urls as string[]) : undefined;
  });
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`12h`, `1h30m`, `500ms`), as milliseconds. */
export function duration(): Schema<number> {
  return scalar('a duration like 30s, 15m or 12h', (v) => {
    if (typeof v !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
    let ms = 0;
    for (const [, n, , unit] of v.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/gy)) {
      ms += Number(n) * (DURATION_UNITS[unit ?? ''] ?? 0);
    }
    return ms;
  });
}

/** A list whose items match `item`. */
export function list<T>(item: Schema<T>): Schema<T[]> {
  return {
    expected: `a list of ${item.expected}`,
    check(value, path, issues) {
      if (value === undefined || value === null) {
        issue(issues, path, 'is required');
        return [];
      }
      if (!Array.isArray(value)) {
        issue(issues, path, `must be a list`);
        return [];
      }
      return value.map((v, i) => item.check(v, `${path}[${i}]`, issues));
    },
  };
}

/** A mapping of string keys to string values (labels). */
export function stringMap(): Schema<Record<string, string>> {
  return scalar('a mapping of strings to strings', (v) =>
    isMapping(v) && Object.values(v).every((x) => typeof x === 'string')
      ? (v as Record<string, string>)
      : undefined,
  );
}

/** A missing (or null) value is allowed: it yields `fallback` (undefined when none is given). */
export function optional<T>(schema: Schema<T>): Schema<T | undefined>;
export function optional<T>(schema: Schema<T>, fallback: T): Schema<T>;
export function optional<T>(schema: Schema<T>, fallback?: T): Schema<T | undefined> {
  return {
    expected: schema.expected,
    check: (value, path, issues) =>
      value === undefined || value === null ? fallback : schema.check(value, path, issues),
  };
}

/** What a {@link refine} function returns for a bad value; `key` is below the value's path. */
export interface Issue {
  issue: string;
  key?: string;
}

/**
 * Checks the value, then converts it (or reports what is wrong by returning `{ issue }`, or a
 * list of them so that every problem is reported at once). The result type leaves out the
 * `{ issue }` shapes `fn` may return.
 */
export function refine<T, U>(
  schema: Schema<T>,
  fn: (value: T, path: string) => U,
): Schema<Exclude<U, Issue | Issue[]>> {
  type Out = Exclude<U, Issue | Issue[]>;
  return {
    expected: schema.expected,
    check(value, path, issues) {
      const before = issues.length;
      const checked = schema.check(value, path, issues);
      if (issues.length > before) return undefined as Out;
      const out = fn(checked, path);
      const found = Array.isArray(out) && out.length > 0 && out.every(isIssue) ? out : [out];
      if (!found.every(isIssue)) return out as Out;
      for (const i of found)
        issue(issues, i.key === undefined ? path : keyPath(path, i.key), i.issue);
      return undefined as Out;
    },
  };
}

function isIssue(v: unknown): v is Issue {
  return isMapping(v) && typeof v['issue'] === 'string' && Object.keys(v).length <= 2;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A mapping with exactly these keys: a missing required key and an unknown key are errors. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    expected: 'a mapping',
    check(value, path, issues) {
      if (value === undefined || value === null) {
        issue(issues, path, 'is required');
        return undefined as unknown as ObjectOf<S>;
      }
      if (!isMapping(value)) {
        issue(issues, path, 'must be a mapping of keys to values');
        return undefined as unknown as ObjectOf<S>;
      }
      const unknown = Object.keys(value).filter((k) => !Object.hasOwn(shape, k));
      for (const k of unknown) {
        issue(
          issues,
          keyPath(path, k),
          `unknown key (known keys: ${Object.keys(shape).join(', ')})`,
        );
      }
      const out: Record<string, unknown> = {};
      for (const [k, schema] of Object.entries(shape)) {
        const v = schema.check(value[k], keyPath(path, k), issues);
        if (v !== undefined) out[k] = v;
      }
      return out as ObjectOf<S>;
    },
  };
}

/** One of several mappings, chosen by the string value of the key `tag` (`type: posix`). */
export function tagged<K extends string, V extends Record<string, Schema<unknown>>>(
  tag: K,
  variants: V,
): Schema<Infer<V[keyof V]>> {
  const tagSchema = oneOf(Object.keys(variants));
  return {
    expected: 'a mapping',
    check(value, path, issues) {
      if (value === undefined || value === null) {
        issue(issues, path, 'is required');
        return undefined as Infer<V[keyof V]>;
      }
      if (!isMapping(value)) {
        issue(issues, path, 'must be a mapping of keys to values');
        return undefined as Infer<V[keyof V]>;
      }
      const before = issues.length;
      const kind = tagSchema.check(value[tag], keyPath(path, tag), issues);
      if (issues.length > before) return undefined as Infer<V[keyof V]>;
      const variant = variants[kind] as Schema<unknown>;
      return variant.check(value, path, issues) as Infer<V[keyof V]>;
    },
  };
}

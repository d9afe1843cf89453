import type { When, WhenCondition, WhenConditions } from './types.js';

/** The kind of git ref a run is created for. */
export type RefType = 'branch' | 'tag' | 'pull_request';

/** What a `when` is matched against. */
export interface WhenTarget {
  /** The kind of ref. */
  refType: RefType;
  /** The full ref (`refs/heads/master`, `refs/tags/v1.0`, `refs/pull/3/head`). */
  ref: string;
  /** Branch name, for branch refs. */
  branch?: string;
  /** Tag name, for tag refs. */
  tag?: string;
}

const INLINE_FLAGS = /^\(\?([imsU]+)\)/;
/** How many compiled `when` expressions are kept (least recently used dropped first). */
const CACHE_LIMIT = 1024;
const cache = new Map<string, RegExp>();

/**
 * Compiles the source of a `when` regular expression (delimiters already removed). Agola uses
 * Go's RE2 syntax; the common subset is the same in JavaScript, and leading inline flags such
 * as `(?i)` (which JavaScript lacks) are turned into RegExp flags. Compiled expressions are
 * cached (the 1,024 most recently used), so a long-running service does not grow without bound.
 *
 * @throws SyntaxError when the expression is invalid.
 */
export function compileWhenRegExp(source: string): RegExp {
  let re = cache.get(source);
  if (re) {
    // refresh its place: the Map keeps insertion order, the oldest entry is evicted first
    cache.delete(source);
    cache.set(source, re);
    return re;
  }
  let body = source;
  let flags = '';
  const inline = INLINE_FLAGS.exec(body);
  if (inline?.[1] !== undefined && !inline[1].includes('U')) {
    flags = [...new Set(inline[1])].join('');
    body = body.slice(inline[0].length);
  }
  re = new RegExp(body, flags);
  cache.set(source, re);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return re;
}

function matchAny(conditions: readonly WhenCondition[], value: string): boolean {
  return conditions.some((c) =>
    c.type === 'simple' ? c.match === value : compileWhenRegExp(c.match).test(value),
  );
}

function apply(result: boolean, conditions: WhenConditions, value: string): boolean {
  let out = result;
  if (matchAny(conditions.include, value)) out = true;
  if (matchAny(conditions.exclude, value)) out = false;
  return out;
}

/**
 * Whether a `when` matches a ref, with Agola's evaluation order: no `when` matches; otherwise
 * start from false, then apply the branch conditions (branch refs only), then the tag
 * conditions (tag refs only), then the ref conditions (always). In each, an include match
 * sets true and an exclude match then sets false; a later group overrides an earlier one.
 * Simple conditions are exact matches; regular expressions search anywhere in the value.
 *
 * @example
 * ```ts
 * matchWhen({ branch: { include: [{ type: 'simple', match: 'master' }], exclude: [] } },
 *   { refType: 'branch', ref: 'refs/heads/master', branch: 'master' }); // true
 * ```
 */
export function matchWhen(when: When | undefined, target: WhenTarget): boolean {
  if (!when) return true;
  let result = false;
  if (when.branch && target.refType === 'branch' && target.branch) {
    result = apply(result, when.branch, target.branch);
  }
  if (when.tag && target.refType === 'tag' && target.tag) {
    result = apply(result, when.tag, target.tag);
  }
  if (when.ref) result = apply(result, when.ref, target.ref);
  return result;
}

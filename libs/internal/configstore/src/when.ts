import { compileWhenRegExp, isRegExpCondition } from '@agola-ts/runconfig';
import { invalid } from './errors.js';

/** The longest `match` of a `when` condition, in characters. */
export const MAX_WHEN_MATCH_LENGTH = 1000;
/** Most conditions in one include or exclude list. */
export const MAX_WHEN_CONDITIONS = 100;

const GROUPS = ['branch', 'tag', 'ref'] as const;
const LISTS = ['include', 'exclude'] as const;
// what Go's RE2 (Agola's engine) cannot compile: backreferences and lookaround
const NOT_RE2 = /\\[1-9]|\(\?<?[=!]/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkKeys(o: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw invalid(
        `${path}: unknown key ${JSON.stringify(key)} (known keys: ${known.join(', ')})`,
      );
    }
  }
}

function checkRegExp(source: string, path: string): void {
  if (NOT_RE2.test(source)) {
    throw invalid(`${path}: backreferences and lookarounds are not supported`);
  }
  try {
    compileWhenRegExp(source);
  } catch (err) {
    throw invalid(`${path} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function checkMatch(match: unknown, path: string): string {
  if (typeof match !== 'string' || match === '')
    throw invalid(`${path} must be a non-empty string`);
  if (match.length > MAX_WHEN_MATCH_LENGTH) {
    throw invalid(`${path} is longer than ${MAX_WHEN_MATCH_LENGTH} characters`);
  }
  return match;
}

/** One condition: a string (a `/regexp/` or `#regexp#`, else an exact match) or `{type, match}`. */
function condition(raw: unknown, path: string): void {
  if (typeof raw === 'string') {
    const match = checkMatch(raw, path);
    if (isRegExpCondition(match)) checkRegExp(match.slice(1, -1), path);
    return;
  }
  if (!isObject(raw)) throw invalid(`${path} must be a string or an object {type, match}`);
  checkKeys(raw, ['type', 'match'], path);
  const { type } = raw;
  if (type !== 'simple' && type !== 'regexp') {
    throw invalid(`${path}.type must be "simple" or "regexp"`);
  }
  const match = checkMatch(raw['match'], `${path}.match`);
  if (type === 'regexp') checkRegExp(match, `${path}.match`);
}

/** A list of conditions, or one condition given alone. */
function conditions(raw: unknown, path: string): void {
  if (!Array.isArray(raw)) {
    condition(raw, path);
    return;
  }
  if (raw.length > MAX_WHEN_CONDITIONS) {
    throw invalid(`${path} has more than ${MAX_WHEN_CONDITIONS} conditions`);
  }
  raw.forEach((c: unknown, i) => condition(c, `${path}[${i}]`));
}

/**
 * Checks the `when` of a variable value, in either form Agola knows: the run config's
 * (`branch: master`, a list, `{include, exclude}`; a condition in `/…/` or `#…#` is a regular
 * expression) or the decoded one (`{include: [{type: simple|regexp, match}]}`). Regular
 * expressions must compile, in the subset Go's RE2 shares with JavaScript. Returned as given
 * (Agola stores it unchanged).
 *
 * @throws a 400 `ERR_CONFIGSTORE_INVALID_REQUEST` naming the bad field.
 */
export function checkWhen(raw: unknown, path: string): unknown {
  if (!isObject(raw)) throw invalid(`${path} must be an object`);
  checkKeys(raw, GROUPS, path);
  for (const group of GROUPS) {
    const conds = raw[group];
    if (conds === undefined || conds === null) continue;
    const groupPath = `${path}.${group}`;
    if (!isObject(conds)) {
      conditions(conds, groupPath);
      continue;
    }
    checkKeys(conds, LISTS, groupPath);
    for (const list of LISTS) {
      const items = conds[list];
      if (items !== undefined && items !== null) conditions(items, `${groupPath}.${list}`);
    }
  }
  return raw;
}

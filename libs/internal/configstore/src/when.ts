import { compileWhenRegExp } from '@agola-ts/runconfig';
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

function condition(raw: unknown, path: string): Record<string, string> {
  if (!isObject(raw)) throw invalid(`${path} must be an object {type, match}`);
  checkKeys(raw, ['type', 'match'], path);
  const { type, match } = raw;
  if (type !== 'simple' && type !== 'regexp') {
    throw invalid(`${path}.type must be "simple" or "regexp"`);
  }
  if (typeof match !== 'string' || match === '') {
    throw invalid(`${path}.match must be a non-empty string`);
  }
  if (match.length > MAX_WHEN_MATCH_LENGTH) {
    throw invalid(`${path}.match is longer than ${MAX_WHEN_MATCH_LENGTH} characters`);
  }
  if (type === 'regexp') {
    if (NOT_RE2.test(match)) {
      throw invalid(`${path}.match: backreferences and lookarounds are not supported`);
    }
    try {
      compileWhenRegExp(match);
    } catch (err) {
      throw invalid(`${path}.match is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return { type, match };
}

/**
 * Checks the `when` of a variable value: Agola's stored form (`services/types.When`),
 * `{branch?, tag?, ref?}` each `{include?, exclude?}` lists of `{type: simple|regexp, match}`,
 * regular expressions that compile. Returns it as given (Agola stores it unchanged).
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
    if (!isObject(conds)) throw invalid(`${groupPath} must be an object {include, exclude}`);
    checkKeys(conds, LISTS, groupPath);
    for (const list of LISTS) {
      const items = conds[list];
      if (items === undefined || items === null) continue;
      const listPath = `${groupPath}.${list}`;
      if (!Array.isArray(items)) throw invalid(`${listPath} must be a list of conditions`);
      if (items.length > MAX_WHEN_CONDITIONS) {
        throw invalid(`${listPath} has more than ${MAX_WHEN_CONDITIONS} conditions`);
      }
      items.forEach((c: unknown, i) => condition(c, `${listPath}[${i}]`));
    }
  }
  return raw;
}

import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import {
  matchWhen,
  isRegExpCondition,
  type When,
  type WhenCondition,
  type WhenConditions,
  type WhenTarget,
} from '@agola-ts/runconfig';
import type { SecretResponse, VariableResponse, VariableValue } from '@agola-ts/types';

const WHEN_GROUPS = ['branch', 'tag', 'ref'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function conditionOf(raw: unknown): WhenCondition | undefined {
  if (typeof raw === 'string') {
    if (raw === '') return undefined;
    return isRegExpCondition(raw)
      ? { type: 'regexp', match: raw.slice(1, -1) }
      : { type: 'simple', match: raw };
  }
  if (isObject(raw) && typeof raw['match'] === 'string') {
    return { type: raw['type'] === 'regexp' ? 'regexp' : 'simple', match: raw['match'] };
  }
  return undefined;
}

function conditionsOf(raw: unknown): WhenCondition[] {
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  return list.map(conditionOf).filter((c): c is WhenCondition => c !== undefined);
}

/**
 * The `when` of a variable value in the run config's decoded form. The configstore keeps it as
 * given, in either of Agola's forms: the run config's (`branch: master`, a list,
 * `{include, exclude}`, `/re/` or `#re#` for a regular expression) or the decoded one
 * (`{include: [{type, match}]}`). `undefined` (no `when`) always matches.
 */
export function variableWhen(raw: unknown): When | undefined {
  if (!isObject(raw)) return undefined;
  const when: When = {};
  for (const group of WHEN_GROUPS) {
    const conds = raw[group];
    if (conds === undefined || conds === null) continue;
    let wc: WhenConditions;
    if (isObject(conds) && !('match' in conds)) {
      wc = { include: conditionsOf(conds['include']), exclude: conditionsOf(conds['exclude']) };
    } else {
      wc = { include: conditionsOf(conds), exclude: [] };
    }
    when[group] = wc;
  }
  return when;
}

/**
 * Drops the variables overridden by a nearer one with the same name: the list is nearest
 * first (as the configstore answers `?tree`), so the first of each name wins. Order is kept.
 */
export function filterOverriddenVariables<T extends { name: string }>(
  variables: readonly T[],
): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const v of variables) {
    if (seen.has(v.name)) continue;
    seen.add(v.name);
    out.push(v);
  }
  return out;
}

/** Whether `parent` is `p` or one of its ancestors, by whole path components. */
export function isSameOrParentPath(parent: string, p: string): boolean {
  const clean = (s: string) => {
    let end = s.length;
    while (end > 0 && s[end - 1] === '/') end--;
    return s.slice(0, end);
  };
  const a = clean(parent);
  const b = clean(p);
  if (a === b) return true;
  if (a === '') return b.startsWith('/');
  return b.startsWith(`${a}/`);
}

/**
 * The secret a variable value reads: the first secret with the value's `secret_name` whose
 * parent is the variable's parent or one of its ancestors (a variable never reads a secret
 * defined below it).
 */
export function matchingSecret(
  value: VariableValue,
  variableParentPath: string,
  secrets: readonly SecretResponse[],
): SecretResponse | undefined {
  return secrets.find(
    (s) => s.name === value.secret_name && isSameOrParentPath(s.ParentPath, variableParentPath),
  );
}

/**
 * Resolves variables as Agola's `genRunVariables`: for each variable (overridden ones
 * removed), the FIRST value whose `when` matches the ref decides; its value is the matching
 * secret's `data[secret_var]` (no secret or no such key: the variable stays unset).
 */
export function resolveVariables(
  variables: readonly VariableResponse[],
  secrets: readonly SecretResponse[],
  target: WhenTarget,
): Record<string, string> {
  const out = new Map<string, string>();
  for (const v of filterOverriddenVariables(variables)) {
    const value = v.values.find((val) => matchWhen(variableWhen(val.when), target));
    if (!value) continue;
    const secret = matchingSecret(value, v.ParentPath, secrets);
    const data = secret?.data;
    if (data && Object.hasOwn(data, value.secret_var)) {
      out.set(v.name, data[value.secret_var] as string);
    }
  }
  return Object.fromEntries(out);
}

/** Reads a project's variables and secrets (whole tree) and resolves them for a ref. */
export async function projectRunVariables(
  configstore: ConfigstoreClient,
  projectId: string,
  target: WhenTarget,
  options: { signal?: AbortSignal } = {},
): Promise<Record<string, string>> {
  const call = options.signal ? { signal: options.signal } : {};
  const [variables, secrets] = await Promise.all([
    configstore.getVariables('project', projectId, { tree: true }, call),
    configstore.getSecrets('project', projectId, { tree: true }, call),
  ]);
  return resolveVariables(variables, secrets, target);
}

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { newError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';

/** Agola's default pull request ref regexes (GitHub/Gitea and GitLab). */
export const DEFAULT_PR_REF_REGEXES: readonly string[] = [
  String.raw`refs/pull/(\d+)/head`,
  String.raw`refs/merge-requests/(\d+)/head`,
];

/** The branch a direct run uses when none of `--branch`, `--tag`, `--ref` is given. */
export const DEFAULT_BRANCH = 'master';

/** Largest `--var-file` read, in bytes. */
export const MAX_VAR_FILE_SIZE = 1024 * 1024;
/** Longest variable name. */
export const MAX_VAR_NAME_LENGTH = 256;

/** What a direct run is created for: exactly one of a branch, a tag or a raw ref. */
export type DirectRunTarget = { branch: string } | { tag: string } | { ref: string };

const flagError = (message: string, cause?: unknown) =>
  cause === undefined
    ? newError(message, { code: AgolaAppErrorCodes.DirectRunFlags })
    : wrap(cause, message, { code: AgolaAppErrorCodes.DirectRunFlags });

/**
 * The target of a direct run from `--branch`, `--tag` and `--ref`: at most one may be given;
 * none means the branch `master` (Agola's default).
 *
 * @throws `ERR_AGOLA_DIRECTRUN_FLAGS` when more than one is given or one is empty.
 */
export function targetOf(flags: { branch?: string; tag?: string; ref?: string }): DirectRunTarget {
  const given = (['branch', 'tag', 'ref'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 1) {
    throw flagError(
      `only one of --branch, --tag or --ref can be given (got ${given.map((k) => `--${k}`).join(', ')})`,
    );
  }
  const which = given[0];
  if (which === undefined) return { branch: DEFAULT_BRANCH };
  const value = flags[which] ?? '';
  if (value.trim() === '') throw flagError(`--${which} is empty`);
  if (which === 'ref' && !value.startsWith('refs/')) {
    throw flagError(`--ref must be a full ref (refs/...), got ${JSON.stringify(value)}`);
  }
  return which === 'branch' ? { branch: value } : which === 'tag' ? { tag: value } : { ref: value };
}

/** The git ref a target is pushed to. */
export function pushRefOf(target: DirectRunTarget): string {
  if ('branch' in target) return `refs/heads/${target.branch}`;
  if ('tag' in target) return `refs/tags/${target.tag}`;
  return target.ref;
}

/**
 * `--pull-request-ref-regexes`: each value may hold several regexes separated by commas (as
 * Agola's flag); none given means {@link DEFAULT_PR_REF_REGEXES}.
 *
 * @throws `ERR_AGOLA_DIRECTRUN_FLAGS` for a regex that does not compile.
 */
export function prRefRegexesOf(values: readonly string[] | undefined): string[] {
  if (!values || values.length === 0) return [...DEFAULT_PR_REF_REGEXES];
  const out = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
  for (const r of out) {
    try {
      new RegExp(r);
    } catch (err) {
      throw flagError(
        `--pull-request-ref-regexes: invalid regular expression ${JSON.stringify(r)}`,
        err,
      );
    }
  }
  return out;
}

function checkName(name: string, where: string): void {
  if (name === '') throw flagError(`${where}: empty variable name`);
  if (name.length > MAX_VAR_NAME_LENGTH) {
    throw flagError(`${where}: variable name longer than ${MAX_VAR_NAME_LENGTH} characters`);
  }
}

/**
 * The variables of a direct run: every `--var-file` (a YAML or JSON map of scalars, read in
 * order, a later file wins), then every `--var name=value` (which win over the files). Values
 * are strings (numbers and booleans of a file are turned into their text, as Agola's Go YAML
 * decoding does).
 *
 * @throws `ERR_AGOLA_DIRECTRUN_FLAGS` for a `--var` without `=`, an unreadable file, or a
 *   file that is not a map of scalars.
 */
export async function variablesOf(
  vars: readonly string[] | undefined,
  varFiles: readonly string[] | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of varFiles ?? []) {
    let text: string;
    try {
      const data = await readFile(file, options.signal ? { signal: options.signal } : {});
      if (data.length > MAX_VAR_FILE_SIZE) {
        throw flagError(`--var-file ${file}: larger than ${MAX_VAR_FILE_SIZE} bytes`);
      }
      text = data.toString('utf8');
    } catch (err) {
      if ((err as { code?: string }).code === AgolaAppErrorCodes.DirectRunFlags) throw err;
      throw flagError(`--var-file ${file}: cannot read it`, err);
    }
    let parsed: unknown;
    try {
      // maps as Map: a key named `__proto__` or `constructor` is a name like any other
      parsed = parseYaml(text, { maxAliasCount: 100, mapAsMap: true });
    } catch (err) {
      throw flagError(`--var-file ${file}: not valid YAML or JSON`, err);
    }
    if (parsed === null || parsed === undefined) continue;
    if (!(parsed instanceof Map)) {
      throw flagError(`--var-file ${file}: must be a map of variable names to values`);
    }
    for (const [key, value] of parsed as Map<unknown, unknown>) {
      if (key !== null && typeof key === 'object') {
        throw flagError(`--var-file ${file}: a variable name is not a scalar`);
      }
      const name = String(key);
      checkName(name, `--var-file ${file}`);
      if (value !== null && typeof value === 'object') {
        throw flagError(`--var-file ${file}: the value of ${JSON.stringify(name)} is not a scalar`);
      }
      out.set(name, value === null || value === undefined ? '' : String(value));
    }
  }
  for (const v of vars ?? []) {
    const eq = v.indexOf('=');
    if (eq < 0) throw flagError(`--var ${JSON.stringify(v.slice(0, 50))}: expected name=value`);
    const name = v.slice(0, eq);
    checkName(name, '--var');
    out.set(name, v.slice(eq + 1));
  }
  return out;
}

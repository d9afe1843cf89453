import { InvalidArgumentError } from 'commander';
import { withCompletionValues } from './completion.js';

// Agola's name rule: letters, digits and single dashes between them, starting with a letter
const NAME_RE = /^[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*$/;
const MAX_NAME = 256;

/** True when `name` is a valid Agola name (user, org, project, secret, variable...). */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME && NAME_RE.test(name);
}

/**
 * A commander argument parser for an Agola name: `-n, --name <name>` rejects `a_b` or `1a`
 * with a usage error (exit 2) before any request.
 */
export function nameArg(value: string): string {
  if (!isValidName(value)) {
    throw new InvalidArgumentError(
      'must start with a letter and hold only letters, digits and single dashes',
    );
  }
  return value;
}

/** A commander argument parser accepting only the given values (offered by completion). */
export function enumArg<T extends string>(values: readonly T[]): (value: string) => T {
  return withCompletionValues((value: string) => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
    }
    return value as T;
  }, values);
}

/** Like {@link enumArg}, for a repeatable option: collects the values in an array. */
export function enumListArg<T extends string>(
  values: readonly T[],
): (value: string, previous: T[] | undefined) => T[] {
  const one = enumArg(values);
  return withCompletionValues(
    (value: string, previous: T[] | undefined) => [...(previous ?? []), one(value)],
    values,
  );
}

/** A commander argument parser for a non-negative integer. */
export function intArg(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

/** A commander argument parser for a positive integer (a run number, a limit). */
export function positiveIntArg(value: string): number {
  const n = intArg(value);
  if (n === 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A commander argument parser for `true`/`false`. */
export function boolArg(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('must be true or false');
}

/**
 * A commander argument parser for a repeatable `name=value` option (`--var a=1 --var b=2`):
 * the name is an Agola name, the value anything (may hold `=`). Collects into a `Map`, a
 * later repetition of a name wins.
 */
export function nameValueArg(value: string, previous: Map<string, string> | undefined) {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('must be name=value');
  const name = value.slice(0, eq);
  if (!isValidName(name)) {
    throw new InvalidArgumentError(
      `name "${name}" must start with a letter and hold only letters, digits and single dashes`,
    );
  }
  const out = new Map(previous ?? []);
  out.set(name, value.slice(eq + 1));
  return out;
}

/** A commander argument parser for a repeatable string option. */
export function collectArg(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

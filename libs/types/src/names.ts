/**
 * The rule every name (user, org, project group, project, remote source, secret, variable,
 * token) follows: starts with a letter, then letters and digits with single dashes between
 * them, at least two characters. Agola's rule, written so that each character has one way to
 * match: it runs in linear time whatever the input (Agola's form backtracks exponentially on
 * a long run of letters followed by a bad character).
 */
export const NAME_REGEXP = /^[a-zA-Z](?:-?[a-zA-Z0-9])+$/;

/**
 * The longest name, in characters. A name is one URL path segment of the API (and a part of a
 * project group path), so it must stay well inside what the services' router addresses.
 */
export const MAX_NAME_LENGTH = 100;

/** A UUID as Agola's ids are (any version, case-insensitive). */
const UUID_REGEXP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `value` parses as a UUID. Refs that do are ids; any other ref is a name.
 *
 * @example
 * ```ts
 * isUuid('2d0ad1a8-1e08-4a67-a1b9-1ad8c5b0a3e4'); // true
 * isUuid('alice'); // false
 * ```
 */
export function isUuid(value: string): boolean {
  return UUID_REGEXP.test(value);
}

/**
 * Whether `name` is a valid name: at most {@link MAX_NAME_LENGTH} characters, it matches
 * {@link NAME_REGEXP} and is not a UUID (so a ref, which is an id or a name, is never
 * ambiguous).
 *
 * @example
 * ```ts
 * isValidName('my-org'); // true
 * isValidName('1abc'); // false: starts with a digit
 * isValidName('a--b'); // false: double dash
 * isValidName('a'.repeat(101)); // false: too long
 * ```
 */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_REGEXP.test(name) && !isUuid(name);
}

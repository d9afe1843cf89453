/** One step of a path into the config document: a map key or a list index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats a path the way users read it: `runs[0].tasks[2].steps[1]`. Keys that are not
 * plain identifiers are quoted (`docker_registries_auth["index.docker.io"]`); the root is `config`.
 *
 * @example
 * ```ts
 * formatPath(['runs', 0, 'tasks', 2]); // 'runs[0].tasks[2]'
 * ```
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? 'config' : out;
}

/**
 * Sets an own, enumerable property, even for keys such as `__proto__` that plain assignment
 * would treat specially (config maps are keyed by user-written names).
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

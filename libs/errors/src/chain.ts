/**
 * Iterates an error and its causes, outermost first. Stops at a cycle (an error that is its
 * own cause, directly or not) and at a non-error cause is yielded last.
 */
export function* causeChain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    yield cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
}

/** The first element of the chain (outermost first) that matches `predicate`. */
export function findCause<T = unknown>(
  err: unknown,
  predicate: (element: unknown) => boolean,
): T | undefined {
  for (const element of causeChain(err)) {
    if (predicate(element)) return element as T;
  }
  return undefined;
}

/**
 * True when some element of the chain has this `code` (an Agola code such as
 * `ERR_OST_NOT_EXIST`, or a third-party string code such as Node's `ENOENT`).
 *
 * @example
 * ```ts
 * if (is(err, 'ERR_OST_NOT_EXIST')) return undefined;
 * ```
 */
export function is(err: unknown, code: string): boolean {
  return findCause(err, (e) => codeOf(e) === code) !== undefined;
}

/**
 * The first element of the chain that is an instance of `ctor` (Agola error classes match
 * across duplicate package copies by brand).
 *
 * @example
 * ```ts
 * const apiErr = as(err, ApiError);
 * if (apiErr) reply.status(apiErr.status);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function as<T>(err: unknown, ctor: abstract new (...args: any[]) => T): T | undefined {
  return findCause<T>(err, (e) => e instanceof ctor);
}

function codeOf(element: unknown): unknown {
  return element !== null && typeof element === 'object'
    ? (element as { code?: unknown }).code
    : undefined;
}

/**
 * A small read cache of downstream lookups: identical lookups in flight at the same time
 * share one downstream request (no staleness beyond that request), and a result may be kept
 * for a short time-to-live. Failures are never kept. Size-bounded: the oldest entries go
 * first.
 */
export interface ReadCache {
  /**
   * The value of `key`: a fresh kept one, the lookup already in flight, or `load()`'s.
   * `ttlMs(value)` says how long to keep a result (0: only while in flight). With
   * `reuseKept: false` a kept result is not used (a write's permission check): only a lookup
   * in flight is shared, else `load()` runs.
   */
  get<T>(
    key: string,
    load: () => Promise<T>,
    ttlMs: (value: T) => number,
    options?: { reuseKept?: boolean },
  ): Promise<T>;
  /**
   * Forgets every kept result and every lookup in flight (those finish for their callers
   * only): a later lookup goes downstream.
   */
  clear(): void;
  /** Number of kept results and lookups in flight. */
  readonly size: number;
}

interface Entry {
  value: Promise<unknown>;
  /** `Infinity` while in flight; then when the kept result expires. */
  expires: number;
}

/**
 * Creates a {@link ReadCache} of at most `maxEntries` entries.
 *
 * @example
 * ```ts
 * const cache = createReadCache({ maxEntries: 1000 });
 * const project = await cache.get(`project:${ref}`, () => cs.getProject(ref), () => 1000);
 * ```
 */
export function createReadCache(options: { maxEntries: number; now?: () => number }): ReadCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const evict = () => {
    while (entries.size > options.maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) return;
      entries.delete(oldest.value);
    }
  };
  return {
    get<T>(
      key: string,
      load: () => Promise<T>,
      ttlMs: (value: T) => number,
      options: { reuseKept?: boolean } = {},
    ): Promise<T> {
      const found = entries.get(key);
      const usable =
        found !== undefined &&
        (found.expires === Infinity || (options.reuseKept !== false && found.expires > now()));
      if (usable) return found.value as Promise<T>;
      if (found) entries.delete(key);
      const entry: Entry = { value: Promise.resolve(), expires: Infinity };
      const value = (async () => {
        try {
          const v = await load();
          const ttl = ttlMs(v);
          // after a clear() the entry is gone: a result that may predate a write is not kept
          if (entries.get(key) === entry) {
            if (ttl > 0) entry.expires = now() + ttl;
            else entries.delete(key);
          }
          return v;
        } catch (err) {
          if (entries.get(key) === entry) entries.delete(key);
          throw err;
        }
      })();
      entry.value = value;
      entries.set(key, entry);
      evict();
      return value;
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

/** Who may see an org, project group or project. */
export type Visibility = 'public' | 'private';

/** Every {@link Visibility}. */
export const VISIBILITIES: readonly Visibility[] = ['public', 'private'];

/**
 * Whether `value` is a {@link Visibility}.
 *
 * @example
 * ```ts
 * isVisibility('public'); // true
 * isVisibility('internal'); // false
 * ```
 */
export function isVisibility(value: unknown): value is Visibility {
  return value === 'public' || value === 'private';
}

/**
 * `GET /maintenance` of a service with a datamanager (configstore, runservice) and the
 * gateway's `GET /maintenance/{service}`: whether maintenance mode is asked for (the etcd key)
 * and whether the service is serving it (it switches a moment after the request).
 */
export interface MaintenanceStatusResponse {
  /** Maintenance mode was enabled (and not disabled since). */
  requested_status: boolean;
  /** The service serves its maintenance mode now. */
  current_status: boolean;
}

/** Options of the paged lists (users, orgs, remote sources): ordered by name. */
export interface ListOptions {
  /** Most items returned: 0 or absent means 10, more than 20 is capped at 20. */
  limit?: number;
  /** Start after this name (exclusive). */
  start?: string;
  /** Ascending order by name. @default false (descending) */
  asc?: boolean;
}

/** Default page size of the paged lists. */
export const DEFAULT_LIST_LIMIT = 10;

/** Largest page size of the paged lists. */
export const MAX_LIST_LIMIT = 20;

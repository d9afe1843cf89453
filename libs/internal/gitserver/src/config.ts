import {
  boolean,
  duration,
  object,
  optional,
  refine,
  string,
  webSchema,
  type HostPort,
  type Issue,
  type Schema,
} from '@agola-ts/service-kit';

/** Agola's default period of the repository cleaner: 24 hours. */
export const DEFAULT_REPOSITORY_CLEANUP_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Agola's default age after which a branch or tag is deleted: 30 days. */
export const DEFAULT_REPOSITORY_REFS_EXPIRE_INTERVAL_MS = 30 * 24 * 60 * 60 * 1000;

/** The git server's config: the `gitserver` section of Agola's config file, durations in ms. */
export interface GitserverConfig {
  /** Where the bare repositories live (`<dataDir>/<userID>/<uuid>.git`); created if missing. */
  dataDir: string;
  /** Where to listen. */
  web: { listen: HostPort };
  /** How often the cleaner runs. @default 24 h */
  repositoryCleanupIntervalMs?: number;
  /** Branches and tags whose last commit is older are deleted. @default 30 days */
  repositoryRefsExpireIntervalMs?: number;
}

/** Any value (the `etcd` and `objectStorage` keys Agola's section has but does not use). */
const unused: Schema<unknown> = { expected: 'anything', check: (v) => v };

const positive = refine(duration(), (ms): number | Issue =>
  ms > 0 ? ms : { issue: 'must be a positive duration' },
);

/**
 * The `gitserver` section of Agola's config file (§1.3): `dataDir` (required), `web`,
 * `repositoryCleanupInterval` and `repositoryRefsExpireInterval` (Go durations like `24h`),
 * checked and turned into a {@link GitserverConfig}.
 *
 * @example
 * ```ts
 * const file = await loadConfig('config.yml');
 * const gs = createGitserver(serviceSection(file, 'gitserver', gitserverSchema), { logger });
 * ```
 */
export const gitserverSchema = refine(
  object({
    debug: optional(boolean(), false),
    dataDir: string(),
    web: webSchema,
    repositoryCleanupInterval: optional(positive),
    repositoryRefsExpireInterval: optional(positive),
    etcd: optional(unused),
    objectStorage: optional(unused),
  }),
  (g): GitserverConfig => ({
    dataDir: g.dataDir,
    web: { listen: g.web.listen },
    ...(g.repositoryCleanupInterval !== undefined
      ? { repositoryCleanupIntervalMs: g.repositoryCleanupInterval }
      : {}),
    ...(g.repositoryRefsExpireInterval !== undefined
      ? { repositoryRefsExpireIntervalMs: g.repositoryRefsExpireInterval }
      : {}),
  }),
);

import type { ExecutorConfig } from '@agola-ts/executor';
import {
  boolean,
  integer,
  object,
  oneOf,
  optional,
  refine,
  string,
  stringMap,
  url,
  webSchema,
  type HostPort,
  type Schema,
} from '@agola-ts/service-kit';

/**
 * The `executor` section of Agola's config file. Beyond Agola: `driver.type` may be `local`
 * (host processes, no isolation); `toolboxPath` and `initImage` are accepted and unused (the
 * TypeScript executor needs no toolbox binary).
 */
export const executorSchema: Schema<ExecutorConfig & { debug: boolean }> = refine(
  object({
    debug: optional(boolean(), false),
    dataDir: string(),
    runserviceURL: url(),
    toolboxPath: optional(string()),
    web: webSchema,
    driver: object({ type: oneOf(['local', 'docker']) }),
    initImage: optional(object({ image: optional(string()) })),
    labels: optional(stringMap(), {}),
    activeTasksLimit: optional(integer(1), 2),
    allowPrivilegedContainers: optional(boolean(), false),
  }),
  (e) => ({
    debug: e.debug,
    dataDir: e.dataDir,
    runserviceURL: e.runserviceURL,
    web: { listen: (e.web as { listen: HostPort }).listen },
    driver: { type: e.driver.type },
    labels: e.labels,
    activeTasksLimit: e.activeTasksLimit,
    allowPrivilegedContainers: e.allowPrivilegedContainers,
  }),
);

import { newError } from '@agola-ts/errors';
import { ExecutorErrorCodes } from '../codes.js';
import { createDockerDriver, type DockerDriverConfig } from './docker.js';
import { createLocalDriver, type LocalDriverConfig } from './local.js';
import type { Driver } from './types.js';

/** The configuration of any driver, told apart by `type`. */
export type DriverConfig = LocalDriverConfig | DockerDriverConfig;

/**
 * Creates the driver a configuration names.
 *
 * @throws `ERR_EXECUTOR_INVALID_CONFIG` for an unknown `type` (from untyped config files).
 *
 * @example
 * ```ts
 * const driver = createDriver({ type: 'local', executorId, podsDir: `${dataDir}/pods` });
 * ```
 */
export function createDriver(config: DriverConfig): Driver {
  switch (config.type) {
    case 'local':
      return createLocalDriver(config);
    case 'docker':
      return createDockerDriver(config);
    default: {
      const never: never = config;
      throw newError(`unknown driver type ${JSON.stringify((never as { type: unknown }).type)}`, {
        code: ExecutorErrorCodes.InvalidConfig,
      });
    }
  }
}

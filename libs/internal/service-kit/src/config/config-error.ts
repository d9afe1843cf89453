import { AgolaError } from '@agola-ts/errors';
import { ServiceKitErrorCodes } from '../codes.js';

/**
 * A config file with bad, missing or unknown keys (`ERR_SERVICE_INVALID_CONFIG`). Its message
 * lists every problem, each naming the key by its full path
 * (`configstore.etcd.endpoints: must be a list of URLs`).
 */
export class ConfigError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/service-kit:ConfigError');

  /** Each problem, as `key.path: what is wrong`. */
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`invalid config ${source}: ${issues.join('; ')}`, {
      code: ServiceKitErrorCodes.InvalidConfig,
    });
    this.issues = issues;
  }
}

import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';
import type { OstLogger } from './logger.js';
import { createPosixStorage } from './posix/posix-storage.js';
import { lazyStorage } from './lazy.js';
import { validateS3Options } from './s3/s3-validate.js';
import { withBasePath } from './storage.js';
import type { ObjectStorage } from './types.js';

/** `type: 'posix'`: a directory tree on a local file system (see {@link createPosixStorage}). */
export interface PosixStorageConfig {
  type: 'posix';
  /** Root directory (objects under `<path>/data`). */
  path: string;
  /** Keys are relative to this path inside the storage. @default '' */
  basePath?: string;
}

/**
 * `type: 's3'`: S3 or an S3-compatible server (see `createS3Storage` of `@agola-ts/ost/s3`).
 * Needs the optional peer dependency `@aws-sdk/client-s3`.
 */
export interface S3StorageConfig {
  type: 's3';
  bucket: string;
  /** @default 'us-east-1' */
  region?: string;
  /** Server URL of an S3-compatible server; AWS when omitted. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** @default false */
  forcePathStyle?: boolean;
  /** Create the bucket if missing. @default true */
  createBucket?: boolean;
  /** Keys are relative to this path inside the bucket. @default '' */
  basePath?: string;
}

/**
 * The object storage part of a service config file. Only `posix` and `s3` are selectable
 * there; posixflat and memory are created from code.
 */
export type ObjectStorageConfig = PosixStorageConfig | S3StorageConfig;

/** Options of {@link createObjectStorage} that do not come from a config file. */
export interface CreateObjectStorageOptions {
  /** pino-compatible logger. @default silent */
  logger?: OstLogger;
}

/**
 * Creates the object storage a config describes.
 *
 * An `s3` storage loads its driver (and the AWS SDK) with a dynamic import on its first
 * call, so a posix-only program never loads the SDK; the config itself is checked at once.
 * If `@aws-sdk/client-s3` is not installed, every call of that storage fails with
 * `ERR_OST_DRIVER_UNAVAILABLE`. Import `createS3Storage` from `@agola-ts/ost/s3` to load it
 * eagerly instead.
 *
 * @throws `ERR_OST_INVALID_CONFIG` for an unknown `type` or a missing field,
 *   `ERR_OST_INVALID_KEY` for a bad `basePath`.
 * @example
 * ```ts
 * const storage = createObjectStorage({ type: 'posix', path: '/var/lib/agola/ost' });
 * ```
 */
export function createObjectStorage(
  config: ObjectStorageConfig,
  options: CreateObjectStorageOptions = {},
): ObjectStorage {
  const logger = options.logger !== undefined ? { logger: options.logger } : {};
  // Config comes from files: check the shape at run time too.
  const type = (config as { type?: unknown } | null)?.type;
  switch (config?.type) {
    case 'posix': {
      const { type: _type, ...rest } = config;
      return createPosixStorage({ ...rest, ...logger });
    }
    case 's3': {
      const { type: _type, basePath, ...rest } = config;
      validateS3Options(rest);
      const driver = lazyStorage('s3', async () => {
        const { createS3Storage } = await import('./s3/s3-storage.js');
        return createS3Storage({ ...rest, ...logger });
      });
      return withBasePath(driver, basePath ?? '');
    }
    default: {
      const _exhaustive: never = config;
      throw newError(
        `object storage: unknown type ${JSON.stringify(type)} (expected "posix" or "s3")`,
        { code: OstErrorCodes.InvalidConfig },
      );
    }
  }
}

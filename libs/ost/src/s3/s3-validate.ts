import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from '../codes.js';

const MiB = 1024 * 1024;
/** S3's smallest part (except the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** Default part size of multipart uploads. */
export const DEFAULT_PART_SIZE = 8 * MiB;

/**
 * Checks the s3 options that need no SDK (the bucket, the part size), so a config can be
 * rejected at once even though the driver itself is loaded on first use.
 *
 * @throws `ERR_OST_INVALID_CONFIG`
 */
export function validateS3Options(options: { bucket?: unknown; partSize?: unknown }): void {
  const { bucket } = options;
  if (typeof bucket !== 'string' || bucket === '') {
    throw newError('s3 storage: bucket is required', { code: OstErrorCodes.InvalidConfig });
  }
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (typeof partSize !== 'number' || !Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw newError(`s3 storage: partSize must be an integer >= ${MIN_PART_SIZE}`, {
      code: OstErrorCodes.InvalidConfig,
    });
  }
}

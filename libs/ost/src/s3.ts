/**
 * The S3 driver of `@agola-ts/ost`, behind its own entry so that importing `@agola-ts/ost`
 * never loads the AWS SDK. Needs `@aws-sdk/client-s3` (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createS3Storage } from '@agola-ts/ost/s3';
 *
 * const storage = createS3Storage({ endpoint: 'http://minio:9000', bucket: 'agola', forcePathStyle: true });
 * ```
 * @module
 */
export { createS3Storage, createS3Client } from './s3/s3-storage.js';
export type { S3StorageOptions } from './s3/s3-storage.js';

import { freshBucket } from '@agola-ts/testkit';
import { createS3Storage } from '../src/s3.js';
import { describeObjectStorage } from '../src/testing.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

for (const basePath of ['', 'rundata/']) {
  describeObjectStorage(
    `s3 (s3rver), ${basePath === '' ? 'no base path' : `base path ${basePath}`}`,
    async () => {
      const conn = await freshBucket();
      return createS3Storage({ ...conn, basePath });
    },
    // s3rver gaps (not the driver's): it lists in its file system's order and overwrites
    // objects in place. DeleteObject is idempotent on every S3.
    { idempotentDelete: true, unorderedListing: true, nonAtomicServer: true },
  );
}

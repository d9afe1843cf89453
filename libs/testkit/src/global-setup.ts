// vitest global setup: one etcd and one S3 server for a whole test run.
// Use it with `globalSetup: ['@agola-ts/testkit/global-setup']` in vitest.config.ts; tests
// then call sharedEtcdEndpoint() / freshBucket() / uniquePrefix() for isolation.
import type { TestProject } from 'vitest/node';
import { startEtcd } from './etcd.js';
import { startS3 } from './s3.js';
import type { SharedComponents } from './shared.js';

/** Starts the shared components and returns their teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [etcd, s3] = await Promise.all([startEtcd(), startS3()]);
  const provided: SharedComponents = {
    etcdEndpoint: etcd.endpoint,
    s3: {
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
      bucket: s3.bucket,
    },
  };
  project.provide('agolaTestkit', provided);
  return async () => {
    await Promise.all([etcd.stop(), s3.stop()]);
  };
}

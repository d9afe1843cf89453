import { randomUUID } from 'node:crypto';
import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';
import { createS3Client, randomBucketName, type S3Connection } from './s3.js';
import { CreateBucketCommand } from '@aws-sdk/client-s3';

/** What the testkit global setup provides to every test file of a vitest run. */
export interface SharedComponents {
  /** Client URL of the run's etcd. */
  etcdEndpoint: string;
  /** The run's S3 server (with its first bucket). */
  s3: S3Connection;
}

declare module 'vitest' {
  export interface ProvidedContext {
    agolaTestkit: SharedComponents;
  }
}

async function shared(): Promise<SharedComponents> {
  const { inject } = await import('vitest');
  const value = inject('agolaTestkit');
  if (!value) {
    throw newError(
      "no shared etcd/S3: add globalSetup: ['@agola-ts/testkit/global-setup'] to vitest.config.ts",
      { code: TestkitErrorCodes.NotProvided },
    );
  }
  return value;
}

/** The etcd endpoint shared by the whole test run (from the testkit global setup). */
export async function sharedEtcdEndpoint(): Promise<string> {
  return (await shared()).etcdEndpoint;
}

/**
 * A new, empty bucket on the test run's shared S3 server, so tests never see each other's
 * objects.
 */
export async function freshBucket(): Promise<S3Connection> {
  const { s3 } = await shared();
  const bucket = randomBucketName();
  const client = createS3Client(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return { ...s3, bucket };
}

/**
 * A key prefix no other test uses (`<label>-<random>/`), for isolating tests that share
 * one etcd.
 */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomUUID().slice(0, 8)}/`;
}

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ManagedProcess } from './managed-process.js';
import { getFreePort } from './ports.js';

/** Connection settings of a test S3 server (what an S3 client or the ost s3 driver needs). */
export interface S3Connection {
  /** e.g. `http://127.0.0.1:40124` */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style addressing (`endpoint/bucket/key`): s3rver has no virtual-host buckets. */
  forcePathStyle: true;
  /** A bucket that exists on the server. */
  bucket: string;
}

/** Options of {@link startS3}. */
export interface StartS3Options {
  /** How long to wait for the server. @default 15000 */
  readyTimeoutMs?: number;
}

/** A throwaway s3rver on loopback with its data in a temp dir. */
export interface S3Server extends S3Connection {
  /** Temp dir holding `data/` and `s3rver.log`. */
  readonly dir: string;
  /** Creates a new, empty bucket (a random name unless given) and returns its connection. */
  createBucket(name?: string): Promise<S3Connection>;
  /** A client configured as the toolchain notes require (path style, checksums when required). */
  client(): S3Client;
  /** The last output of the server process. */
  output(): string;
  /** Stops it and deletes its temp dir. */
  stop(): Promise<void>;
}

/** Random bucket name valid for S3 (lowercase, 3-63 chars). */
export function randomBucketName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 18)}`;
}

/**
 * An S3 client for a test connection. `requestChecksumCalculation` and
 * `responseChecksumValidation` are `WHEN_REQUIRED`: with the SDK defaults, stream bodies
 * are sent aws-chunked and s3rver stores the chunk framing as the object's data.
 */
export function createS3Client(conn: Omit<S3Connection, 'bucket'>): S3Client {
  return new S3Client({
    endpoint: conn.endpoint,
    region: conn.region,
    forcePathStyle: true,
    credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Starts s3rver (npm) as a child process with the flags the toolchain notes require:
 * `--openssl-legacy-provider` (its continuation tokens use DES; without it paginated
 * listing answers 500) and `--no-vhost-buckets`. A first bucket is created.
 *
 * @throws `ERR_TESTKIT_START_FAILED` (with its output) when it does not come up.
 * @example
 * ```ts
 * const s3 = await startS3();
 * const { bucket } = await s3.createBucket();
 * ```
 */
export async function startS3(options: StartS3Options = {}): Promise<S3Server> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const dir = await mkdtemp(join(tmpdir(), 'agola-testkit-s3-'));
  const bucket = randomBucketName();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await getFreePort();
    const proc = new ManagedProcess({
      name: 's3rver',
      command: process.execPath,
      logFile: join(dir, 's3rver.log'),
      env: { ...process.env, NODE_OPTIONS: '' },
      args: [
        '--openssl-legacy-provider',
        bin,
        '-d',
        join(dir, 'data'),
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '--no-vhost-buckets',
        '--silent',
        '--configure-bucket',
        bucket,
      ],
    });
    proc.start();
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await proc.waitReady(
        async () => (await fetch(endpoint)).ok,
        options.readyTimeoutMs ?? 15_000,
      );
    } catch (err) {
      lastError = err;
      await proc.kill();
      continue;
    }
    const base = {
      endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true as const,
    };
    let shared: S3Client | undefined;
    const client = () => (shared ??= createS3Client(base));
    return {
      ...base,
      bucket,
      dir,
      client,
      output: () => proc.output(),
      async createBucket(name = randomBucketName()) {
        await client().send(new CreateBucketCommand({ Bucket: name }));
        return { ...base, bucket: name };
      },
      async stop() {
        shared?.destroy();
        await proc.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  // The temp dir (with s3rver.log) is kept so the failure can be looked into.
  throw lastError;
}

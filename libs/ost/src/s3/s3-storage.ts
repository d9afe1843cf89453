import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { newError } from '@agola-ts/errors';
import { backendError, notExistError, throwIfAborted } from '../errors.js';
import { compareKeys, validateKey } from '../keys.js';
import { silentLogger } from '../logger.js';
import {
  createObjectStorageFromDriver,
  withBasePath,
  type ObjectStorageDriver,
} from '../storage.js';
import { emptyReadable } from '../streams.js';
import type { CommonStorageOptions, ObjectStorage } from '../types.js';
import { DEFAULT_PART_SIZE, validateS3Options } from './s3-validate.js';

const CONTENT_TYPE = 'application/octet-stream';

/** Options of {@link createS3Storage}. */
export interface S3StorageOptions extends CommonStorageOptions {
  /** Bucket holding the objects; created on first use if missing (see `createBucket`). */
  bucket: string;
  /** @default 'us-east-1' */
  region?: string;
  /** Server URL for S3-compatible servers (`http://minio:9000`); AWS when omitted. */
  endpoint?: string;
  /** Access key; the SDK's default credential chain when omitted. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. @default false */
  forcePathStyle?: boolean;
  /**
   * A ready client instead of the settings above. It must be created with
   * `requestChecksumCalculation: 'WHEN_REQUIRED'` and `responseChecksumValidation:
   * 'WHEN_REQUIRED'` (see the README).
   */
  client?: S3Client;
  /** Create the bucket when it does not exist. @default true */
  createBucket?: boolean;
  /** Part size of multipart uploads of streams of unknown length (min 5 MiB). @default 8 MiB */
  partSize?: number;
  /** Parts uploaded at once; memory use is about `partSize * (uploadConcurrency + 1)`. @default 2 */
  uploadConcurrency?: number;
  /** Keys per ListObjectsV2 page. @default 1000 */
  listPageSize?: number;
}

/** SDK error fields used to classify a failure. */
interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string | undefined {
  const e = err as SdkError | null;
  return e?.name ?? e?.Code;
}

function isNotFound(err: unknown): boolean {
  const name = nameOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

/**
 * Makes the S3 client the driver needs. The checksum settings are not optional: with the SDK
 * defaults, stream bodies are sent `aws-chunked` with a trailer, which some S3-compatible
 * servers store verbatim, silently corrupting the object.
 */
export function createS3Client(
  options: Pick<
    S3StorageOptions,
    'region' | 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'forcePathStyle'
  >,
): S3Client {
  const { accessKeyId, secretAccessKey, sessionToken } = options;
  return new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken !== undefined ? { sessionToken } : {}),
          },
        }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Yields a stream as parts of exactly `partSize` bytes (the last one shorter), holding at
 * most one part plus one chunk in memory.
 */
async function* splitParts(stream: Readable, partSize: number): AsyncGenerator<Buffer> {
  let chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    while (length >= partSize) {
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
      yield all.subarray(0, partSize);
      const rest = all.subarray(partSize);
      chunks = rest.length > 0 ? [rest] : [];
      length = rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(chunks, length);
}

/**
 * An object storage on S3 or any S3-compatible server (MinIO, Ceph, s3rver...).
 *
 * - The bucket is created on first use when missing (unless `createBucket: false`).
 * - Strings and buffers are sent with one PutObject. Streams (of known or unknown length)
 *   are cut into parts of `partSize`: one PutObject when the data fits in one part, else a
 *   multipart upload, never holding the whole object in memory. The object appears only
 *   when the upload completes, so a failed or aborted write leaves no object. The parts of a
 *   failed multipart upload are aborted; if the server refuses that (s3rver answers 405),
 *   they stay invisible until a lifecycle rule for incomplete uploads removes them.
 * - `delete` of a missing key succeeds (DeleteObject is idempotent on S3).
 * - Listing follows continuation tokens.
 *
 * @throws `ERR_OST_INVALID_CONFIG` without a bucket, or a part size under 5 MiB.
 * @example
 * ```ts
 * const storage = createS3Storage({
 *   endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', bucket: 'agola',
 *   accessKeyId: 'minio', secretAccessKey: 'minio123', forcePathStyle: true,
 * });
 * ```
 */
export function createS3Storage(options: S3StorageOptions): ObjectStorage {
  validateS3Options(options);
  const { bucket } = options;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const concurrency = Math.max(1, options.uploadConcurrency ?? 2);
  const pageSize = options.listPageSize ?? 1000;
  const log = options.logger ?? silentLogger;
  const client = options.client ?? createS3Client(options);

  let bucketReady: Promise<void> | undefined;
  const ensureBucket = (): Promise<void> => {
    if (options.createBucket === false) return Promise.resolve();
    bucketReady ??= (async () => {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (!isNotFound(err) && nameOf(err) !== 'NoSuchBucket') {
          throw backendError(err, `checking bucket ${JSON.stringify(bucket)}`);
        }
      }
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        log.info({ bucket }, 'ost s3: created bucket');
      } catch (err) {
        const name = nameOf(err);
        // Another instance may have created it meanwhile.
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') {
          throw backendError(err, `creating bucket ${JSON.stringify(bucket)}`);
        }
      }
    })().catch((err: unknown) => {
      bucketReady = undefined;
      throw err;
    });
    return bucketReady;
  };

  async function multipartUpload(
    key: string,
    first: Buffer,
    rest: AsyncGenerator<Buffer>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: CONTENT_TYPE }),
      { abortSignal: signal },
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw newError('s3: CreateMultipartUpload returned no UploadId');
    const parts: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const upload = (body: Buffer, partNumber: number): void => {
      const p = client
        .send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.length,
          }),
          { abortSignal: signal },
        )
        .then((out) => {
          parts.push({ PartNumber: partNumber, ETag: out.ETag });
        })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    try {
      let partNumber = 1;
      upload(first, partNumber);
      for await (const part of rest) {
        throwIfAborted(signal, `write ${JSON.stringify(key)}`);
        if (failure !== undefined) break;
        upload(part, ++partNumber);
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      throwIfAborted(signal, `write ${JSON.stringify(key)}`);
      parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      await Promise.allSettled(inFlight);
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
        );
      } catch (abortErr) {
        log.warn(
          { err: backendError(abortErr, 'AbortMultipartUpload'), bucket, key, uploadId },
          'ost s3: could not abort a failed multipart upload; its parts stay (invisible) until a lifecycle rule removes them',
        );
      }
      throw err;
    }
  }

  const driver: ObjectStorageDriver = {
    name: 's3',

    async stat(key, signal) {
      await ensureBucket();
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
      } catch (err) {
        if (isNotFound(err)) throw notExistError(key, err);
        throw err;
      }
    },

    async read(key, { start, end }, signal) {
      await ensureBucket();
      if (end === start) {
        await driver.stat(key, signal);
        return emptyReadable();
      }
      let range: string | undefined;
      if (start > 0 || end !== undefined) {
        // A HEAD first (as Agola does): it gives not-exist and the size, so the range can be
        // clamped. Some servers (s3rver) hang on a range past the end of an empty object.
        const { size } = await driver.stat(key, signal);
        if (start >= size) return emptyReadable();
        const last = Math.min(end ?? size, size) - 1;
        range = `bytes=${start}-${last}`;
      }
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }),
          { abortSignal: signal },
        );
        return out.Body as Readable;
      } catch (err) {
        if (isNotFound(err)) throw notExistError(key, err);
        // A range that starts past the end: the object exists, the range is empty.
        if (statusOf(err) === 416 || nameOf(err) === 'InvalidRange') {
          await driver.stat(key, signal);
          return emptyReadable();
        }
        throw err;
      }
    },

    async write(key, data, { signal }) {
      await ensureBucket();
      if (data.kind === 'buffer') {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: data.buffer,
            ContentLength: data.buffer.length,
            ContentType: CONTENT_TYPE,
          }),
          { abortSignal: signal },
        );
        return;
      }
      // Streams are cut into parts in memory before anything is sent: a source that fails
      // midway then never reaches the server. (A streamed PutObject body that fails leaves
      // some servers, s3rver among them, with a truncated object.)
      const { stream, size } = data;
      const maxParts = 10_000;
      const parts = splitParts(
        stream,
        size === undefined ? partSize : Math.max(partSize, Math.ceil(size / maxParts)),
      );
      try {
        const first = await parts.next();
        const second = first.done ? undefined : await parts.next();
        throwIfAborted(signal, `write ${JSON.stringify(key)}`);
        if (first.done || !second || second.done) {
          const body = first.done ? Buffer.alloc(0) : first.value;
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: body.length,
              ContentType: CONTENT_TYPE,
            }),
            { abortSignal: signal },
          );
          return;
        }
        const firstPart = first.value;
        const secondPart = second.value;
        async function* remaining(): AsyncGenerator<Buffer> {
          yield secondPart;
          yield* parts;
        }
        await multipartUpload(key, firstPart, remaining(), signal);
      } finally {
        await parts.return(undefined);
      }
    },

    async delete(key, signal) {
      await ensureBucket();
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      });
    },

    async *list(prefix, { startAfter, recursive, signal }) {
      await ensureBucket();
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: pageSize,
            ...(recursive ? {} : { Delimiter: '/' }),
            ...(token === undefined
              ? startAfter !== undefined
                ? { StartAfter: startAfter }
                : {}
              : { ContinuationToken: token }),
          }),
          { abortSignal: signal },
        );
        for (const obj of out.Contents ?? []) {
          const key = obj.Key;
          if (key === undefined) continue;
          // Some servers ignore StartAfter on later pages; filter here as well.
          if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
          try {
            validateKey(key);
          } catch {
            log.debug({ key }, 'ost s3: skipping an object whose key is not a valid ost key');
            continue;
          }
          yield { key, size: obj.Size ?? 0, lastModified: obj.LastModified ?? new Date(0) };
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token !== undefined);
    },
  };
  return withBasePath(createObjectStorageFromDriver(driver), options.basePath ?? '');
}

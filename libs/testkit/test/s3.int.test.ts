import { describe, expect, test } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { createS3Client, freshBucket, startS3 } from '../src/index.js';

describe('startS3', () => {
  test('serves a bucket; stream bodies round-trip byte-exactly', async () => {
    const s3 = await startS3();
    try {
      const client = s3.client();
      const data = Buffer.alloc(70_003, 'x');
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: 'a/b',
          Body: Readable.from([data]),
          ContentLength: data.length,
        }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'a/b' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      expect(bytes.length).toBe(data.length);
      expect(bytes.equals(data)).toBe(true);

      const other = await s3.createBucket();
      expect(other.bucket).not.toBe(s3.bucket);
      const list = await client.send(new ListObjectsV2Command({ Bucket: other.bucket }));
      expect(list.KeyCount ?? 0).toBe(0);
    } finally {
      await s3.stop();
    }
  });

  test('paginated listing works (needs --openssl-legacy-provider)', async () => {
    const conn = await freshBucket();
    const client = createS3Client(conn);
    try {
      for (let i = 0; i < 5; i++) {
        await client.send(new PutObjectCommand({ Bucket: conn.bucket, Key: `k${i}`, Body: 'v' }));
      }
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: conn.bucket, MaxKeys: 2, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      expect(keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    } finally {
      client.destroy();
    }
  });

  test('fresh buckets isolate tests', async () => {
    const a = await freshBucket();
    const b = await freshBucket();
    expect(a.bucket).not.toBe(b.bucket);
    expect(a.endpoint).toBe(b.endpoint);
  });
});

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { is } from '@agola-ts/errors';
import { createS3Client, freshBucket } from '@agola-ts/testkit';
import { describe, expect, it } from 'vitest';
import { createObjectStorage, OstErrorCodes, type ObjectStorage } from '../src/index.js';
import { createS3Storage } from '../src/s3.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

async function keys(s: ObjectStorage, prefix = '', startAfter?: string): Promise<string[]> {
  const out: string[] = [];
  const opts = startAfter === undefined ? { recursive: true } : { recursive: true, startAfter };
  for await (const info of s.list(prefix, opts)) out.push(info.key);
  return out;
}

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

describe('s3 driver', () => {
  it('follows continuation tokens across pages', async () => {
    const conn = await freshBucket();
    const s = createS3Storage({ ...conn, listPageSize: 7 });
    const expected = Array.from({ length: 53 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
    await Promise.all(expected.map((k) => s.write(k, k)));
    expect(await keys(s, 'p/')).toEqual(expected);
    expect(await keys(s, 'p/', 'p/019')).toEqual(expected.slice(20));
    // Breaking out early stops at the first page.
    let n = 0;
    for await (const _ of s.list('p/')) if (++n === 3) break;
    expect(n).toBe(3);
  });

  it('creates the bucket on first use', async () => {
    const conn = await freshBucket();
    const bucket = `ost-${randomUUID().slice(0, 12)}`;
    const { lines, logger } = recordingLogger();
    const s = createS3Storage({ ...conn, bucket, logger });
    await s.write('k', 'v');
    const client = createS3Client(conn);
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    expect(lines.some((l) => l.msg?.includes('created bucket'))).toBe(true);
    // A second storage on the same, now existing bucket.
    const again = createS3Storage({ ...conn, bucket });
    expect((await again.stat('k')).size).toBe(1);
  });

  it('does not create the bucket when told not to', async () => {
    const conn = await freshBucket();
    const s = createS3Storage({
      ...conn,
      bucket: `ost-${randomUUID().slice(0, 12)}`,
      createBucket: false,
    });
    const err = await s.write('k', 'v').catch((e: unknown) => e);
    expect(is(err, OstErrorCodes.Backend)).toBe(true);
  });

  it('a failed multipart upload leaves no object although s3rver refuses AbortMultipartUpload', async () => {
    const conn = await freshBucket();
    const { lines, logger } = recordingLogger();
    const s = createS3Storage({ ...conn, partSize: 5 * 1024 * 1024, logger });
    await s.write('big', 'old');
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= 12 * 1024 * 1024) {
          this.destroy(new Error('source failed'));
          return;
        }
        sent += 1024 * 1024;
        this.push(Buffer.alloc(1024 * 1024, 7));
      },
    });
    const err = await s.write('big', source).catch((e: unknown) => e);
    expect(is(err, OstErrorCodes.Backend)).toBe(true);
    const client = createS3Client(conn);
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: conn.bucket, Key: 'big' }));
      expect(await got.Body?.transformToString()).toBe('old');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: conn.bucket }));
      expect((listed.Contents ?? []).map((c) => c.Key)).toEqual(['big']);
    } finally {
      client.destroy();
    }
    // s3rver answers 405 to AbortMultipartUpload: logged, not thrown over the real error.
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toContain('could not abort a failed multipart upload');
  });

  it('keeps objects under the base path and strips it from listings', async () => {
    const conn = await freshBucket();
    const s = createS3Storage({ ...conn, basePath: 'rundata' });
    await s.write('logs/1', 'x');
    const all = createS3Storage(conn);
    expect(await keys(all)).toEqual(['rundata/logs/1']);
    expect(await keys(s)).toEqual(['logs/1']);
    expect((await s.stat('logs/1')).key).toBe('logs/1');
  });

  it('skips objects whose keys are not valid ost keys', async () => {
    const conn = await freshBucket();
    const s = createS3Storage(conn);
    await s.write('ok', 'x');
    const client = createS3Client(conn);
    try {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      await client.send(new PutObjectCommand({ Bucket: conn.bucket, Key: 'folder/', Body: '' }));
    } finally {
      client.destroy();
    }
    expect(await keys(s)).toEqual(['ok']);
  });

  it('is built by createObjectStorage from an s3 config', async () => {
    const conn = await freshBucket();
    const s = createObjectStorage({
      type: 's3',
      endpoint: conn.endpoint,
      region: conn.region,
      bucket: conn.bucket,
      accessKeyId: conn.accessKeyId,
      secretAccessKey: conn.secretAccessKey,
      forcePathStyle: true,
      basePath: 'configdata/',
    });
    await s.write('a', Readable.from([Buffer.from('streamed')]), { size: 8, persist: true });
    const chunks: Buffer[] = [];
    for await (const c of await s.read('a', { start: 2 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('reamed');
  });
});

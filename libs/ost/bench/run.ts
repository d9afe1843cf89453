// Object storage benchmark: each driver against the raw operation it is built on, measured in
// the same run so the ratio is what counts (not the machine). Run with `npm run bench`.
import { randomBytes } from 'node:crypto';
import { open, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createPosixStorage, type ObjectStorage } from '../src/index.js';
import { createS3Storage } from '../src/s3.js';
import { startS3 } from '@agola-ts/testkit';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const MiB = 1024 * 1024;
const OBJECT_SIZE = 1 * MiB;
const ROUNDS = 5;

interface Row {
  what: string;
  unit: string;
  raw: number;
  ost: number;
  goal?: number;
}

const rows: Row[] = [];

async function time(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Best of ROUNDS for each side, alternating raw and ost so drift hits both alike. */
async function compare(
  what: string,
  unit: string,
  amount: number,
  raw: (round: number) => Promise<void>,
  ost: (round: number) => Promise<void>,
  goal?: number,
): Promise<void> {
  let bestRaw = Infinity;
  let bestOst = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      bestRaw = Math.min(bestRaw, await time(() => raw(round)));
      bestOst = Math.min(bestOst, await time(() => ost(round)));
    } else {
      bestOst = Math.min(bestOst, await time(() => ost(round)));
      bestRaw = Math.min(bestRaw, await time(() => raw(round)));
    }
  }
  const row: Row = { what, unit, raw: amount / bestRaw, ost: amount / bestOst };
  if (goal !== undefined) row.goal = goal;
  rows.push(row);
  console.log(
    `${what.padEnd(34)} raw ${row.raw.toFixed(1).padStart(8)} ${unit}   ost ${row.ost.toFixed(1).padStart(8)} ${unit}   ratio ${(row.ost / row.raw).toFixed(2)}${goal !== undefined ? `  (goal >= ${goal})` : ''}`,
  );
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

async function rawWrite(dir: string, name: string, data: Buffer, syncDir = false): Promise<void> {
  const tmp = join(dir, 'tmp', `${name}.tmp`);
  const fh = await open(tmp, 'w', 0o660);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, 'data', name));
  if (syncDir) {
    // What makes the rename itself durable (ost does it with persist).
    const dh = await open(join(dir, 'data'), 'r');
    await dh.sync();
    await dh.close();
  }
}

async function rawList(dir: string): Promise<number> {
  let n = 0;
  async function walk(d: string): Promise<void> {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files = entries.filter((e) => !e.isDirectory()).map((e) => join(d, e.name));
    for (let i = 0; i < files.length; i += 64) {
      await Promise.all(files.slice(i, i + 64).map((f) => stat(f)));
    }
    n += files.length;
    for (const e of entries) if (e.isDirectory()) await walk(join(d, e.name));
  }
  await walk(dir);
  return n;
}

async function countList(s: ObjectStorage, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of s.list(prefix, { recursive: true })) n++;
  return n;
}

async function benchPosix(): Promise<void> {
  const objects = 64;
  const payload = randomBytes(OBJECT_SIZE);
  const rawDir = await mkdtemp(join(tmpdir(), 'ost-bench-raw-'));
  const ostDir = await mkdtemp(join(tmpdir(), 'ost-bench-posix-'));
  try {
    await mkdir(join(rawDir, 'data'), { recursive: true });
    await mkdir(join(rawDir, 'tmp'), { recursive: true });
    const s = createPosixStorage({ path: ostDir });
    const mb = (objects * OBJECT_SIZE) / MiB;
    console.log(`posix: ${objects} objects of 1 MiB per round, best of ${ROUNDS}`);
    await compare(
      'posix write (persist, fsync)',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) await rawWrite(rawDir, `o${r}-${i}`, payload);
      },
      async (r) => {
        for (let i = 0; i < objects; i++) {
          await s.write(`objs/o${r}-${i}`, payload, { persist: true });
        }
      },
      0.8,
    );
    await compare(
      'posix write (persist) vs +dir fsync',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) await rawWrite(rawDir, `d${r}-${i}`, payload, true);
      },
      async (r) => {
        for (let i = 0; i < objects; i++) {
          await s.write(`objs/d${r}-${i}`, payload, { persist: true });
        }
      },
    );
    await compare(
      'posix write (no persist)',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) {
          const tmp = join(rawDir, 'tmp', `n${r}-${i}`);
          const fh = await open(tmp, 'w', 0o660);
          await fh.writeFile(payload);
          await fh.close();
          await rename(tmp, join(rawDir, 'data', `n${r}-${i}`));
        }
      },
      async (r) => {
        for (let i = 0; i < objects; i++) await s.write(`objs/n${r}-${i}`, payload);
      },
      0.8,
    );
    await compare(
      'posix read',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) await readFile(join(rawDir, 'data', `o${r}-${i}`));
      },
      async (r) => {
        for (let i = 0; i < objects; i++) await drain(await s.read(`objs/o${r}-${i}`));
      },
      0.8,
    );

    const listKeys = 10_000;
    const listDir = join(ostDir, 'data', 'list');
    console.log(`posix: listing ${listKeys} keys in 100 directories`);
    const small = Buffer.from('x');
    for (let d = 0; d < 100; d++) {
      await Promise.all(
        Array.from({ length: listKeys / 100 }, (_, f) =>
          s.write(`list/d${String(d).padStart(3, '0')}/k${String(f).padStart(4, '0')}`, small),
        ),
      );
    }
    let ostSeconds = Infinity;
    await compare(
      'posix list, recursive',
      'keys/s',
      listKeys,
      async () => {
        const n = await rawList(listDir);
        if (n !== listKeys) throw new Error(`raw listed ${n}`);
      },
      async () => {
        const seconds = await time(async () => {
          const n = await countList(s, 'list/');
          if (n !== listKeys) throw new Error(`ost listed ${n}`);
        });
        ostSeconds = Math.min(ostSeconds, seconds);
      },
    );
    console.log(
      `posix list of ${listKeys} keys took ${(ostSeconds * 1000).toFixed(0)} ms (goal < 1000 ms)`,
    );
  } finally {
    await rm(rawDir, { recursive: true, force: true });
    await rm(ostDir, { recursive: true, force: true });
  }
}

async function benchS3(): Promise<void> {
  const server = await startS3();
  const objects = 24;
  const payload = randomBytes(OBJECT_SIZE);
  try {
    const rawConn = await server.createBucket();
    const ostConn = await server.createBucket();
    const client = server.client();
    const s = createS3Storage({ ...ostConn });
    const mb = (objects * OBJECT_SIZE) / MiB;
    console.log(`s3 (s3rver): ${objects} objects of 1 MiB per round, best of ${ROUNDS}`);
    // Warm up connections and the bucket check.
    await s.write('warmup', payload);
    await client.send(
      new PutObjectCommand({ Bucket: rawConn.bucket, Key: 'warmup', Body: payload }),
    );
    await compare(
      's3 write (PutObject)',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) {
          await client.send(
            new PutObjectCommand({
              Bucket: rawConn.bucket,
              Key: `objs/o${r}-${i}`,
              Body: payload,
              ContentLength: payload.length,
            }),
          );
        }
      },
      async (r) => {
        for (let i = 0; i < objects; i++) await s.write(`objs/o${r}-${i}`, payload);
      },
      0.9,
    );
    await compare(
      's3 read (GetObject)',
      'MiB/s',
      mb,
      async (r) => {
        for (let i = 0; i < objects; i++) {
          const out = await client.send(
            new GetObjectCommand({ Bucket: rawConn.bucket, Key: `objs/o${r}-${i}` }),
          );
          await drain(out.Body as Readable);
        }
      },
      async (r) => {
        for (let i = 0; i < objects; i++) await drain(await s.read(`objs/o${r}-${i}`));
      },
      0.9,
    );
    const listKeys = 1000;
    console.log(`s3 (s3rver): listing ${listKeys} keys (pages of 1000)`);
    const small = Buffer.from('x');
    for (const [bucket, storage] of [
      [rawConn.bucket, undefined],
      [ostConn.bucket, s],
    ] as const) {
      for (let i = 0; i < listKeys; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => {
            const key = `list/k${String(i + j).padStart(5, '0')}`;
            return storage
              ? storage.write(key, small)
              : client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: small }));
          }),
        );
      }
    }
    await compare(
      's3 list, recursive (ListObjectsV2)',
      'keys/s',
      listKeys,
      async () => {
        let n = 0;
        let token: string | undefined;
        do {
          const out = await client.send(
            new ListObjectsV2Command({
              Bucket: rawConn.bucket,
              Prefix: 'list/',
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          n += out.Contents?.length ?? 0;
          token = out.IsTruncated ? out.NextContinuationToken : undefined;
        } while (token);
        if (n !== listKeys) throw new Error(`raw listed ${n}`);
      },
      async () => {
        const n = await countList(s, 'list/');
        if (n !== listKeys) throw new Error(`ost listed ${n}`);
      },
    );
  } finally {
    await server.stop();
  }
}

const started = Date.now();
await benchPosix();
await benchS3();
console.log(`\nratios (ost / raw, 1.00 = as fast as the raw operation):`);
for (const row of rows) {
  const ratio = row.ost / row.raw;
  const verdict =
    row.goal === undefined ? '' : ratio >= row.goal ? ' ok' : ` BELOW GOAL ${row.goal}`;
  console.log(`  ${row.what.padEnd(34)} ${ratio.toFixed(2)}${verdict}`);
}
console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

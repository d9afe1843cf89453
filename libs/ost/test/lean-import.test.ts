// Importing `@agola-ts/ost` must not load the AWS SDK: the s3 driver lives behind
// `@agola-ts/ost/s3` and `createObjectStorage` loads it on the first call of an s3 storage.
// Each case runs a real node process on the built package (dist/, as a user installs it)
// with a resolve hook that records every module it loads.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = import.meta.dirname;

// Runs in node's hooks thread: appends every resolved URL to the file given at register().
const HOOKS = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ost-lean-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` (an ES module) in a fresh node from the ost package dir; the URLs it loaded. */
async function loadedBy(name: string, body: string): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  const script = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), import.meta.url, {
  data: { out: ${JSON.stringify(out)} },
});
${body}
`;
  await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: join(here, '..'),
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
}

const isAws = (url: string) => /\/node_modules\/@(aws-sdk|smithy)\//.test(url);

describe('importing @agola-ts/ost', () => {
  it('does not load the AWS SDK, even when a posix storage is used', async () => {
    const urls = await loadedBy(
      'posix',
      `
const { createObjectStorage, createPosixStorage } = await import('@agola-ts/ost');
const s = createObjectStorage({ type: 'posix', path: ${JSON.stringify(join(dir, 'store'))} });
await s.write('k', 'v');
for await (const _ of s.list('')) {}
createPosixStorage({ path: ${JSON.stringify(join(dir, 'store'))} });
`,
    );
    expect(urls.some((u) => u.includes('/libs/ost/dist/index.js'))).toBe(true);
    expect(urls.filter(isAws)).toEqual([]);
  });

  it('does not load it when an s3 storage is only created from its config', async () => {
    const urls = await loadedBy(
      's3-config',
      `
const { createObjectStorage } = await import('@agola-ts/ost');
createObjectStorage({ type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:1' });
`,
    );
    expect(urls.filter(isAws)).toEqual([]);
  });

  it('loads it on the first call of an s3 storage from a config', async () => {
    const urls = await loadedBy(
      's3-call',
      `
const { createObjectStorage } = await import('@agola-ts/ost');
const s = createObjectStorage({ type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:1',
  accessKeyId: 'a', secretAccessKey: 'b', forcePathStyle: true });
await s.stat('k', { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
`,
    );
    expect(urls.some((u) => u.includes('/@aws-sdk/client-s3/'))).toBe(true);
  });

  it('@agola-ts/ost/s3 loads it (the check above can see it)', async () => {
    const urls = await loadedBy('s3-entry', `await import('@agola-ts/ost/s3');`);
    expect(urls.some((u) => u.includes('/@aws-sdk/client-s3/'))).toBe(true);
  });
});

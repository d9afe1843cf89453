import { execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const ENTRY = join(here, '../dist/agola.cjs');

/**
 * Stands in for main.js next to the real built entry: blocks 6 pool threads on FIFO opens,
 * then prints whether a stat still got a thread (node's default pool has 4), and unblocks.
 */
const PROBE = `
import { open, stat } from 'node:fs/promises';
import { closeSync, constants, openSync } from 'node:fs';
const dir = process.env.PROBE_DIR;
const fifos = [1, 2, 3, 4, 5, 6].map((i) => dir + '/f' + i);
const opens = fifos.map((f) => open(f, 'r'));
const r = await Promise.race([
  stat(dir).then(() => 'free'),
  new Promise((res) => setTimeout(() => res('blocked'), 15000).unref()),
]);
process.stdout.write(r + ' ' + process.env.UV_THREADPOOL_SIZE);
for (const f of fifos) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
for (const o of opens) await (await o).close();
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function run(d: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PROBE_DIR: d };
    delete env['UV_THREADPOOL_SIZE'];
    const child = spawn(process.execPath, [join(d, 'agola.cjs'), ...args], { env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('the agola entry', () => {
  it('gives agola serve a 16-thread pool before anything starts the pool', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agola-pool-'));
    await copyFile(ENTRY, join(dir, 'agola.cjs'));
    await writeFile(join(dir, 'main.js'), PROBE);
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    for (let i = 1; i <= 6; i++) execFileSync('mkfifo', [join(dir, `f${i}`)]);
    expect(await run(dir, ['serve', '--config', 'x.yml'])).toBe('free 16');
  });
});

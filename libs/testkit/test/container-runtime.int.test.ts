import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { startContainerRuntime, TEST_BUSYBOX_IMAGE } from '../src/index.js';

/** A GET on the Docker-compatible API over the unix socket. */
function apiGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Pids of processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(name));
  }
  return pids;
}

describe.skipIf(process.env['AGOLA_TEST_NO_CONTAINERS'] === '1')('startContainerRuntime', () => {
  test('serves the Docker API with a local busybox image, runs it, and cleans up', async () => {
    const rt = await startContainerRuntime();
    try {
      expect(rt.busyboxImage).toBe(TEST_BUSYBOX_IMAGE);
      const ping = await apiGet(rt.socketPath, '/_ping');
      expect(ping).toEqual({ status: 200, body: 'OK' });
      const images = JSON.parse((await apiGet(rt.socketPath, '/v1.41/images/json')).body) as {
        RepoTags: string[] | null;
      }[];
      const tags = images.flatMap((i) => i.RepoTags ?? []);
      expect(tags).toContain(TEST_BUSYBOX_IMAGE);
      expect(tags).toContain('localhost/agola-testkit-busybox:latest');
      const out = await rt.podman([
        'run',
        '--rm',
        '--network',
        'none',
        rt.busyboxImage,
        'sh',
        '-c',
        'echo hello; id -u nobody; echo $HOME',
      ]);
      expect(out).toBe('hello\n65534\n/root\n');
      // A running container with an exec: stop() must leave no process and no mount behind.
      await rt.podman([
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        'c1',
        rt.busyboxImage,
        'sleep',
        '300',
      ]);
      expect(await rt.podman(['exec', 'c1', 'echo', 'exec-ok'])).toBe('exec-ok\n');
    } finally {
      await rt.stop();
    }
    expect(existsSync(rt.dir)).toBe(false);
    expect(await processesMentioning(rt.dir)).toEqual([]);
  });
});

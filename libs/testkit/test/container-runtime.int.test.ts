import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
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
    } finally {
      await rt.stop();
    }
    expect(existsSync(rt.dir)).toBe(false);
  });
});

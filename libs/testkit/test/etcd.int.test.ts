import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { is } from '@agola-ts/errors';
import { startEtcd, TestkitErrorCodes, sharedEtcdEndpoint } from '../src/index.js';

// etcd's JSON gateway (v3) wants base64 keys and values.
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function put(endpoint: string, key: string, value: string) {
  const res = await fetch(`${endpoint}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  expect(res.status).toBe(200);
}

async function get(endpoint: string, key: string): Promise<string | undefined> {
  const res = await fetch(`${endpoint}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key) }),
  });
  const body = (await res.json()) as { kvs?: { value: string }[] };
  const v = body.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

describe('startEtcd', () => {
  test('serves, survives a crash with its data, and a wipe empties it', async () => {
    const etcd = await startEtcd();
    try {
      expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await put(etcd.endpoint, 'k', 'v1');
      expect(await get(etcd.endpoint, 'k')).toBe('v1');

      await etcd.kill();
      expect(etcd.running).toBe(false);
      await expect(fetch(`${etcd.endpoint}/health`)).rejects.toThrow();
      await etcd.start();
      expect(await get(etcd.endpoint, 'k')).toBe('v1');

      await etcd.restart({ wipe: true });
      expect(await get(etcd.endpoint, 'k')).toBeUndefined();
    } finally {
      await etcd.stop();
    }
    expect(existsSync(etcd.dir)).toBe(false);
  });

  test('a binary that exits at once fails with its output', async () => {
    const err = await startEtcd({ binary: '/bin/false', readyTimeoutMs: 2000 }).catch((e) => e);
    expect(is(err, TestkitErrorCodes.StartFailed)).toBe(true);
    expect(String(err.message)).toContain('etcd exited during start (exit code 1)');
  });

  test('a missing binary says what to install', async () => {
    const oldPath = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const err = await startEtcd().catch((e) => e);
      expect(is(err, TestkitErrorCodes.BinaryMissing)).toBe(true);
      expect(err.message).toBe(
        'etcd not found on PATH: install Debian package etcd-server (npm test does)',
      );
    } finally {
      process.env['PATH'] = oldPath;
    }
  });

  test('the global setup provides one shared etcd for the run', async () => {
    const endpoint = await sharedEtcdEndpoint();
    await put(endpoint, 'shared', 'yes');
    expect(await get(endpoint, 'shared')).toBe('yes');
  });
});

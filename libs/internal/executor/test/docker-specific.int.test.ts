import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { sharedContainerRuntime } from '@agola-ts/testkit';
import { createDockerDriver, ExecutorErrorCodes, type Pod } from '../src/index.js';
import { authConfig, registryOf, tagOf } from '../src/driver/docker.js';
import { Collector, run } from './helpers.js';

const rt = await sharedContainerRuntime();

describe('image references', () => {
  test('registry host and tag as Docker resolves them', () => {
    expect(registryOf('busybox')).toBe('index.docker.io');
    expect(registryOf('library/golang:1.19')).toBe('index.docker.io');
    expect(registryOf('registry.example.com:5000/team/app:1')).toBe('registry.example.com:5000');
    expect(registryOf('localhost/x')).toBe('localhost');
    expect(tagOf('busybox')).toBe('latest');
    expect(tagOf('registry.example.com:5000/team/app')).toBe('latest');
    expect(tagOf('registry.example.com:5000/team/app:1.2')).toBe('1.2');
    expect(tagOf('app@sha256:abcd')).toBe('');
  });

  test('registry credentials: basic, and encodedauth decoded', () => {
    expect(authConfig(undefined, 'r.example.com')).toBeUndefined();
    expect(authConfig({ username: 'u', password: 'p:w' }, 'r.example.com')).toEqual({
      username: 'u',
      password: 'p:w',
      serveraddress: 'r.example.com',
    });
    const auth = Buffer.from('bot:s3:cret').toString('base64');
    expect(authConfig({ auth }, 'index.docker.io')).toEqual({
      username: 'bot',
      password: 's3:cret',
      serveraddress: 'index.docker.io',
    });
  });
});

describe.skipIf(rt.unavailable !== undefined)('docker driver on podman', () => {
  const pods: Pod[] = [];
  const driver = createDockerDriver({
    type: 'docker',
    executorId: `ex-${randomUUID().slice(0, 8)}`,
    socketPath: rt.socketPath ?? '',
    networkMode: 'none',
  });
  afterAll(async () => {
    for (const p of pods) await p.remove().catch(() => undefined);
    await driver.close();
  });

  test('service containers share the main container network; tmpfs volumes are mounted', async () => {
    const pod = await driver.newPod({
      id: randomUUID(),
      taskId: 't1',
      containers: [
        { image: rt.busyboxImage!, volumes: [{ path: '/scratch', tmpfs: { sizeBytes: 8 << 20 } }] },
        {
          image: rt.busyboxImage!,
          entrypoint: [
            'sh',
            '-c',
            'echo from-service > /index.html; httpd -f -p 127.0.0.1:8080 -h /',
          ],
        },
      ],
    });
    pods.push(pod);
    let body = '';
    for (let i = 0; i < 50 && body !== 'from-service\n'; i++) {
      body = (await run(pod, ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/index.html'])).stdout;
      if (body !== 'from-service\n') await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('from-service\n');
    const mounts = (await run(pod, ['cat', '/proc/mounts'])).stdout;
    expect(mounts).toMatch(/^tmpfs \/scratch tmpfs .*size=8192k/m);
  });

  test('privileged containers are refused unless allowed', async () => {
    const out = new Collector();
    const err = await driver
      .newPod(
        {
          id: randomUUID(),
          taskId: 't',
          containers: [{ image: rt.busyboxImage!, privileged: true }],
        },
        { out },
      )
      .catch((e: unknown) => e);
    expect(is(err, ExecutorErrorCodes.InvalidConfig)).toBe(true);
    expect(out.text()).toContain('privileged');
  });

  test('a latest tag is pulled; when the pull fails the local image is used and the log says so', async () => {
    const out = new Collector();
    const image = rt.busyboxImage!.replace(/:v1$/, ':latest');
    const pod = await driver.newPod(
      { id: randomUUID(), taskId: 't', containers: [{ image }] },
      { out },
    );
    pods.push(pod);
    expect(out.text()).toContain(`Pulling image ${image}`);
    expect(out.text()).toContain('using the local image');
    expect((await run(pod, ['echo', 'ok'])).stdout).toBe('ok\n');
  });

  test('a pod whose container fails to start leaves nothing behind', async () => {
    const id = randomUUID();
    const err = await driver
      .newPod({
        id,
        taskId: 't',
        containers: [
          { image: rt.busyboxImage! },
          { image: rt.busyboxImage!, entrypoint: ['/no/such/binary'] },
        ],
      })
      .catch((e: unknown) => e);
    expect(is(err, ExecutorErrorCodes.PodStart)).toBe(true);
    expect((await driver.getPods()).map((p) => p.id)).not.toContain(id);
  });
});

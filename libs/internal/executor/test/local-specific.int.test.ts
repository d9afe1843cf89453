import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  createDriver,
  createSecretMasker,
  expandDir,
  ExecutorErrorCodes,
  prepareWorkingDir,
  runStep,
  SECRET_MASK,
  type DriverConfig,
} from '../src/index.js';
import { Collector, run } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const newPodsDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'agola-executor-local-'));
  dirs.push(d);
  return d;
};

describe('local driver', () => {
  test('the setup log says the image is ignored and there is no isolation', async () => {
    const driver = createDriver({ type: 'local', executorId: 'e1', podsDir: await newPodsDir() });
    const out = new Collector();
    const pod = await driver.newPod(
      { id: randomUUID(), taskId: 't', containers: [{ image: 'golang:1.22' }] },
      { out },
    );
    expect(out.text()).toContain('the image (golang:1.22) is ignored');
    expect(out.text()).toContain('no isolation');
    await pod.remove();
  });

  test('a restarted executor finds its pods and stop kills the processes the old one started', async () => {
    const podsDir = await newPodsDir();
    const before = createDriver({ type: 'local', executorId: 'e2', podsDir });
    const pod = await before.newPod({
      id: randomUUID(),
      taskId: 't',
      containers: [{ image: 'x' }],
    });
    const exec = await pod.exec({ cmd: ['sh', '-c', 'sleep 120 & wait'] });
    const after = createDriver({ type: 'local', executorId: 'e2', podsDir });
    const [found] = await after.getPods();
    expect(found?.id).toBe(pod.id);
    await found!.stop();
    expect(await exec.wait()).toBe(128 + 9);
    await found!.remove();
    expect(await after.getPods()).toEqual([]);
  });

  test("a service container's entrypoint runs in the background and stop kills it", async () => {
    const driver = createDriver({ type: 'local', executorId: 'e4', podsDir: await newPodsDir() });
    const pod = await driver.newPod({
      id: randomUUID(),
      taskId: 't',
      containers: [
        { image: 'x' },
        { image: 'redis', entrypoint: ['sh', '-c', 'echo $$ > svc.pid; exec sleep 120'] },
      ],
    });
    let pid = '';
    for (let i = 0; i < 100 && !pid; i++) {
      pid = (await run(pod, ['sh', '-c', 'cat svc.pid 2>/dev/null || true'])).stdout.trim();
      if (!pid) await new Promise((r) => setTimeout(r, 20));
    }
    expect(pid).toMatch(/^\d+$/);
    expect(() => process.kill(Number(pid), 0)).not.toThrow();
    await pod.stop();
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(Number(pid), 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(() => process.kill(Number(pid), 0)).toThrow();
    await pod.remove();
  });

  test('an unknown driver type is a config error', () => {
    const bad = { type: 'kubernetes', executorId: 'e' } as unknown as DriverConfig;
    let err: unknown;
    try {
      createDriver(bad);
    } catch (e) {
      err = e;
    }
    expect(is(err, ExecutorErrorCodes.InvalidConfig)).toBe(true);
  });

  test('a secret printed by a step in pieces, over lines and through a tty never reaches the log', async () => {
    const driver = createDriver({ type: 'local', executorId: 'e3', podsDir: await newPodsDir() });
    const pod = await driver.newPod({
      id: randomUUID(),
      taskId: 't',
      containers: [{ image: 'x' }],
    });
    const secret = 'tok-3f9a\nsecond-line-77';
    const masker = createSecretMasker([secret]);
    const log = new Collector();
    masker.pipe(log);
    const ctx = { pod, env: { SECRET: secret }, log: masker };
    await prepareWorkingDir(ctx);
    const code = await runStep(ctx, {
      // The value arrives in several writes, split inside a line and at the newline.
      command:
        'printf "a:tok-"; sleep 0.05; printf "3f9a\\nsec"; sleep 0.05; printf "ond-line-77:b\\n"; echo "env:$SECRET"',
      tty: true,
    });
    masker.end();
    await new Promise((r) => log.on('finish', r));
    expect(code).toBe(0);
    expect(log.text()).toBe(`a:${SECRET_MASK}:b\r\nenv:${SECRET_MASK}\r\n`);
    await pod.remove();
  });
  test('setup without a process: the dirs a process would see, the working dir made in this process', async () => {
    // the pods dir behind a symlink: a process's PWD is the resolved path, its HOME is not
    const real = await newPodsDir();
    const podsDir = join(await newPodsDir(), 'link');
    await symlink(real, podsDir);
    const driver = createDriver({ type: 'local', executorId: 'e5', podsDir });
    const pod = await driver.newPod({
      id: randomUUID(),
      taskId: 't',
      containers: [{ image: 'x' }],
    });
    const asked = await run(pod, ['sh', '-c', 'printf "%s\\n%s\\n" "$HOME" "$PWD"']);
    const [home, cwd] = asked.stdout.split('\n');
    expect(await pod.knownDirs?.({ A: '1' })).toEqual({ home, cwd });
    expect(cwd).not.toBe(home);
    // HOME, PWD or a user in the way: asked from a process instead
    expect(await pod.knownDirs?.({ HOME: '/elsewhere' })).toBeUndefined();
    expect(await pod.knownDirs?.({ PWD: '/elsewhere' })).toBeUndefined();
    expect(await pod.knownDirs?.({}, 'nobody')).toBeUndefined();
    const ctx = { pod, env: { HOME: join(real, 'h2') }, log: new Collector() };
    expect(await expandDir(ctx, '~')).toBe(join(real, 'h2'));

    const log = new Collector();
    const made = await prepareWorkingDir({ pod, env: {}, log, workingDir: 'a/b' });
    expect(made).toBe(join(cwd ?? '', 'a/b'));
    expect((await stat(made)).isDirectory()).toBe(true);
    // a file in the way fails the step as `mkdir -p` would
    await writeFile(join(made, 'f'), 'x');
    const err = await prepareWorkingDir({ pod, env: {}, log, workingDir: 'a/b/f/c' }).catch(
      (e: unknown) => e,
    );
    expect(is(err, ExecutorErrorCodes.StepFailed)).toBe(true);
    expect(log.text()).toContain('mkdir: cannot create directory');
    await pod.remove();
    // a removed pod: no dir is made
    const gone = await prepareWorkingDir({ pod, env: {}, log, workingDir: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(is(gone, ExecutorErrorCodes.PodNotFound)).toBe(true);
  });
});

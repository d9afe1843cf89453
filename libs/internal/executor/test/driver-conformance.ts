import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  ExecutorErrorCodes,
  POD_LABELS,
  type Driver,
  type Pod,
  type PodConfig,
} from '../src/index.js';
import { Collector, entriesOf, run, tarOf } from './helpers.js';

/** What a driver under test needs. */
export interface DriverFixture {
  /** A driver for executor `executorId`. */
  create(executorId: string): Promise<Driver>;
  /** An image with a shell and the usual commands (ignored by the local driver). */
  image: string;
  /** True when the driver really uses images (a missing image fails). */
  usesImages: boolean;
}

/**
 * The contract every driver keeps, run against each implementation with its real backend
 * (host processes, podman's Docker API).
 */
export function describeDriver(name: string, fixture: () => Promise<DriverFixture>): void {
  describe(`driver conformance: ${name}`, () => {
    let fx: DriverFixture;
    let driver: Driver;
    const executorId = `ex-${randomUUID().slice(0, 8)}`;
    const created: Pod[] = [];

    const newPod = async (extra: Partial<PodConfig> = {}) => {
      const pod = await driver.newPod({
        id: randomUUID(),
        taskId: `task-${randomUUID().slice(0, 8)}`,
        containers: [{ image: fx.image }],
        ...extra,
      });
      created.push(pod);
      return pod;
    };
    const homeOf = async (pod: Pod) => (await run(pod, ['sh', '-c', 'echo $HOME'])).stdout.trim();

    beforeAll(async () => {
      fx = await fixture();
      driver = await fx.create(executorId);
      await driver.setup();
    });
    afterAll(async () => {
      for (const pod of created) await pod.remove().catch(() => undefined);
      await driver?.close();
    });

    test('runs a command: stdout and stderr apart, the exit code', async () => {
      const pod = await newPod();
      const r = await run(pod, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      expect((await run(pod, ['true'])).code).toBe(0);
    });

    test('env, working dir and user', async () => {
      const pod = await newPod({ containers: [{ image: fx.image, env: { FROM_POD: 'pod' } }] });
      const home = await homeOf(pod);
      expect(home).not.toBe('');
      expect((await run(pod, ['mkdir', '-p', `${home}/wd`])).code).toBe(0);
      const r = await run(pod, ['sh', '-c', 'echo "$FOO|$BAR"; pwd'], {
        env: { FOO: 'foo value', BAR: '' },
        workingDir: `${home}/wd`,
      });
      expect(r.stdout).toBe(`foo value|\n${home}/wd\n`);
      const asNobody = await run(pod, ['id', '-u'], { user: 'nobody' });
      expect(asNobody).toEqual({ code: 0, stdout: '65534\n', stderr: '' });
      const asUid = await run(pod, ['id', '-u'], { user: '65534' });
      expect(asUid.stdout).toBe('65534\n');
    });

    test('a tty merges the output, with CRLF line ends', async () => {
      const pod = await newPod();
      const tty = await run(pod, ['sh', '-c', 'test -t 1 && echo is-a-tty; echo to-stderr >&2'], {
        tty: true,
      });
      expect(tty.code).toBe(0);
      expect(tty.stdout).toContain('is-a-tty\r\n');
      expect(tty.stdout).toContain('to-stderr\r\n');
      expect(tty.stderr).toBe('');
      const noTty = await run(pod, ['sh', '-c', 'test -t 1 && echo is-a-tty; echo done']);
      expect(noTty.stdout).toBe('done\n');
    });

    test('stdin reaches the process and its end is EOF', async () => {
      const pod = await newPod();
      const r = await run(pod, ['sh', '-c', 'read first; echo "got $first"; cat; echo end'], {
        input: 'line one\nrest a\nrest b\n',
      });
      expect(r).toEqual({ code: 0, stdout: 'got line one\nrest a\nrest b\nend\n', stderr: '' });
    });

    test('copies a tar in and a path out', async () => {
      const pod = await newPod();
      const home = await homeOf(pod);
      await pod.copyIn(
        `${home}/in/deeper`,
        tarOf({
          'a.txt': 'alpha\n',
          'sub/': { dir: true },
          'sub/b.txt': 'beta\n',
          'link-to-a': { link: 'a.txt' },
        }),
      );
      expect((await run(pod, ['cat', `${home}/in/deeper/sub/b.txt`])).stdout).toBe('beta\n');
      expect((await run(pod, ['cat', `${home}/in/deeper/link-to-a`])).stdout).toBe('alpha\n');
      const out = await entriesOf(await pod.copyOut(`${home}/in`));
      expect(out).toMatchObject({
        in: '<dir>',
        'in/deeper': '<dir>',
        'in/deeper/a.txt': 'alpha\n',
        'in/deeper/sub': '<dir>',
        'in/deeper/sub/b.txt': 'beta\n',
        'in/deeper/link-to-a': '-> a.txt',
      });
      const one = await entriesOf(await pod.copyOut(`${home}/in/deeper/a.txt`));
      expect(one).toEqual({ 'a.txt': 'alpha\n' });
    });

    test('refuses archive entries that leave the destination, and missing paths', async () => {
      const pod = await newPod();
      const home = await homeOf(pod);
      const err = await pod
        .copyIn(`${home}/x`, tarOf({ 'ok.txt': 'fine', '../escape.txt': 'bad' }))
        .catch((e: unknown) => e);
      expect(is(err, ExecutorErrorCodes.ArchiveRejected)).toBe(true);
      expect((await run(pod, ['test', '-e', `${home}/escape.txt`])).code).not.toBe(0);
      const missing = await pod.copyOut(`${home}/no/such/path`).catch((e: unknown) => e);
      expect(is(missing, ExecutorErrorCodes.PathNotFound)).toBe(true);
    });

    test('lists its own pods by label and removes them', async () => {
      const a = await newPod({ labels: { 'example.org/extra': 'x' } });
      const b = await newPod();
      const pods = await driver.getPods();
      const ids = pods.map((p) => p.id);
      expect(ids).toContain(a.id);
      expect(ids).toContain(b.id);
      const found = pods.find((p) => p.id === a.id)!;
      expect(found.taskId).toBe(a.taskId);
      expect(found.executorId).toBe(executorId);
      expect(found.labels).toMatchObject({
        [POD_LABELS.agola]: 'true',
        [POD_LABELS.executorId]: executorId,
        [POD_LABELS.podId]: a.id,
        [POD_LABELS.taskId]: a.taskId,
        'example.org/extra': 'x',
      });
      // A pod found again works like the one created.
      expect((await run(found, ['echo', 'again'])).stdout).toBe('again\n');
      await found.remove();
      const after = (await driver.getPods()).map((p) => p.id);
      expect(after).not.toContain(a.id);
      expect(after).toContain(b.id);
      const gone = await a.exec({ cmd: ['true'] }).catch((e: unknown) => e);
      expect(is(gone, ExecutorErrorCodes.PodNotFound)).toBe(true);
      await found.remove(); // idempotent
    });

    test("another executor's driver lists this executor's pods only with all", async () => {
      const pod = await newPod();
      const other = await fx.create(`other-${randomUUID().slice(0, 8)}`);
      try {
        expect((await other.getPods()).map((p) => p.id)).not.toContain(pod.id);
        const all = await other.getPods({ all: true });
        expect(all.find((p) => p.id === pod.id)?.executorId).toBe(executorId);
      } finally {
        await other.close();
      }
    });

    test('stop kills running execs, also their children', async () => {
      const pod = await newPod();
      const out = new Collector();
      const exec = await pod.exec({
        cmd: ['sh', '-c', 'sleep 120 & echo started; wait'],
        stdout: out,
      });
      const plain = await pod.exec({ cmd: ['sleep', '120'] });
      for (let i = 0; i < 200 && !out.text().includes('started'); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(out.text()).toBe('started\n');
      await pod.stop();
      const [c1, c2] = await Promise.all([exec.wait(), plain.wait()]);
      expect(c1).not.toBe(0);
      expect(c2).not.toBe(0);
    });

    test('a missing command fails to start with a clear error', async () => {
      const pod = await newPod();
      const err = await run(pod, ['no-such-command-xyz']).catch((e: unknown) => e);
      expect(is(err, ExecutorErrorCodes.ExecStart)).toBe(true);
      expect(String((err as Error).message)).toContain('no-such-command-xyz');
      const home = await homeOf(pod);
      const noDir = await run(pod, ['pwd'], { workingDir: `${home}/no-such-dir` }).catch(
        (e: unknown) => e,
      );
      expect(is(noDir, ExecutorErrorCodes.ExecStart)).toBe(true);
      // Through a shell it is the shell's usual 127.
      const viaShell = await run(pod, ['sh', '-c', 'no-such-command-xyz']);
      expect(viaShell.code).toBe(127);
      expect(viaShell.stderr).toContain('no-such-command-xyz');
    });

    test('a missing image fails the pod with a clear error and leaves nothing behind', async () => {
      if (!fx.usesImages) return;
      const setupLog = new Collector();
      const id = randomUUID();
      const err = await driver
        .newPod(
          { id, taskId: 't', containers: [{ image: 'localhost/agola-no-such-image:v1' }] },
          { out: setupLog },
        )
        .catch((e: unknown) => e);
      expect(is(err, ExecutorErrorCodes.ImageNotFound)).toBe(true);
      expect(setupLog.text()).toContain('localhost/agola-no-such-image:v1');
      expect((await driver.getPods()).map((p) => p.id)).not.toContain(id);
    });

    test('reports its group, executors and archs', async () => {
      expect(await driver.executorGroup()).toBe(executorId);
      expect(await driver.getExecutors()).toEqual([executorId]);
      const archs = await driver.archs();
      expect(archs.length).toBe(1);
      expect(['amd64', 'arm64', '386', 'arm']).toContain(archs[0]);
    });
  });
}

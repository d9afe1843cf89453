// Executor drivers benchmark (npm run bench): pod create+remove, an exec round trip and a
// whole `run` step, for the local driver and the docker driver on podman (when installed),
// plus the secret masker's throughput next to a plain PassThrough. Bounded: a few dozen
// iterations per figure.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable, type Transform } from 'node:stream';
import { startContainerRuntime } from '@agola-ts/testkit';
import {
  createDockerDriver,
  createLocalDriver,
  createSecretMasker,
  prepareWorkingDir,
  runStep,
  type Driver,
} from '../src/index.js';

const fmt = (n: number, d = 1) => n.toFixed(d);
function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  return { p50: at(50), p99: at(99) };
}
async function time(n: number, op: () => Promise<void>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}
const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function benchDriver(name: string, driver: Driver, image: string): Promise<void> {
  await driver.setup();
  const podCfg = () => ({ id: randomUUID(), taskId: 'bench', containers: [{ image }] });
  const create = await time(10, async () => {
    const pod = await driver.newPod(podCfg());
    await pod.remove();
  });
  const pod = await driver.newPod(podCfg());
  try {
    const exec = await time(30, async () => {
      const e = await pod.exec({ cmd: ['true'] });
      if ((await e.wait()) !== 0) throw new Error('exec failed');
    });
    const ctx = { pod, env: { A: 'b' }, log: sink() };
    await prepareWorkingDir(ctx);
    const step = await time(20, async () => {
      if ((await runStep(ctx, { command: 'echo hello', tty: false })) !== 0)
        throw new Error('step');
    });
    console.log(
      `${name.padEnd(22)} pod create+remove p50 ${fmt(create.p50)} ms p99 ${fmt(create.p99)} ms | ` +
        `exec p50 ${fmt(exec.p50)} ms p99 ${fmt(exec.p99)} ms | run step p50 ${fmt(step.p50)} ms p99 ${fmt(step.p99)} ms`,
    );
  } finally {
    await pod.remove();
  }
}

async function throughputMBs(make: () => Transform, data: Buffer, rounds: number): Promise<number> {
  const t = performance.now();
  for (let r = 0; r < rounds; r++) {
    const s = make();
    s.resume();
    const done = new Promise((res) => s.on('end', res));
    for (let o = 0; o < data.length; o += 16 * 1024) s.write(data.subarray(o, o + 16 * 1024));
    s.end();
    await done;
  }
  return (data.length * rounds) / 1e6 / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  console.log(`executor bench (node ${process.version}; shared machine: figures are indicative)`);
  const podsDir = await mkdtemp(join(tmpdir(), 'agola-bench-local-'));
  try {
    await benchDriver(
      'local',
      createLocalDriver({ type: 'local', executorId: 'bench', podsDir }),
      'ignored',
    );
  } finally {
    await rm(podsDir, { recursive: true, force: true });
  }
  let rt: Awaited<ReturnType<typeof startContainerRuntime>> | undefined;
  try {
    rt = await startContainerRuntime();
  } catch (err) {
    console.log(`docker (podman)         skipped: ${(err as Error).message.split('\n')[0]}`);
  }
  if (rt) {
    try {
      await benchDriver(
        'docker (podman socket)',
        createDockerDriver({
          type: 'docker',
          executorId: 'bench',
          socketPath: rt.socketPath,
          networkMode: 'none',
        }),
        rt.busyboxImage,
      );
    } finally {
      await rt.stop();
    }
  }
  // A log-like stream: lines of text, secrets now and then.
  const secrets = [
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'hunter2-secret',
    'AKIAIOSFODNN7EXAMPLE',
    'x'.repeat(64),
    'multi\nline-secret',
  ];
  const line = 'step output line with some text and numbers 0123456789 and a hunter2-secret here\n';
  const data = Buffer.from(line.repeat(Math.ceil((8 << 20) / line.length)));
  const plain = await throughputMBs(() => new PassThrough(), data, 3);
  const masked = await throughputMBs(() => createSecretMasker(secrets), data, 3);
  console.log(
    `masking                8 MiB log, a secret on every line: ${fmt(masked, 0)} MB/s (PassThrough ${fmt(plain, 0)} MB/s, ratio ${fmt(plain / masked, 1)}x)`,
  );
  const clean = Buffer.from(
    data.toString('latin1').replaceAll('hunter2-secret', 'hunter2-public'),
    'latin1',
  );
  const cleanMasked = await throughputMBs(() => createSecretMasker(secrets), clean, 3);
  console.log(
    `masking                8 MiB log, no secret in it:    ${fmt(cleanMasked, 0)} MB/s (ratio ${fmt(plain / cleanMasked, 1)}x)`,
  );
}

await main();

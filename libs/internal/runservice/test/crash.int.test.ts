import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunserviceClient } from '@agola-ts/runservice-client';
import { describe, expect, it } from 'vitest';
import { eventually, newInstallation, runRequest, startInstance, task } from './helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'child-runservice.mjs');

describe('a runservice killed with SIGKILL', () => {
  it('loses no acknowledged run, and its readdb resumes after the crash', async () => {
    const inst = await newInstallation();
    const dataDir = await mkdtemp(join(tmpdir(), 'rs-crash-'));
    const child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        RS_ETCD: inst.etcdEndpoint,
        RS_PREFIX: inst.etcdPrefix,
        RS_OST: (inst.ostConfig as { path: string }).path,
        RS_DATA: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    try {
      const url = await eventually(async () => {
        const m = /URL (\S+)/.exec(out);
        if (!m) throw new Error(`child not listening yet: ${out}`);
        return m[1]!;
      }, 30_000);
      const client = createRunserviceClient({ baseUrl: url, timeoutMs: 10_000 });

      // eight writers create runs back to back until the process dies under them
      const acked: string[] = [];
      let failures = 0;
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; ; i++) {
          try {
            const { run } = await client.createRun(runRequest([task(`t${i}`)], `p${w % 3}`));
            acked.push(run.id);
          } catch {
            failures++;
            return;
          }
        }
      });
      await eventually(async () => expect(acked.length).toBeGreaterThanOrEqual(20), 30_000);
      child.kill('SIGKILL');
      expect(await exited, out).toBe('SIGKILL');
      await Promise.all(writers);
      expect(failures).toBe(8); // every writer saw the crash

      // a new instance on the same data dir (its readdb as the crash left it) and storage
      const b = await startInstance(inst, { dataDir });
      const counters = new Map<string, number[]>();
      for (const id of acked) {
        const { run, run_config } = await b.client.getRun(id);
        expect(run.phase).toBe('queued');
        expect(run_config.id).toBe(id);
        const project = run.group.split('/')[2]!;
        counters.set(project, [...(counters.get(project) ?? []), run.counter]);
      }
      // counters stay unique per project across the crash, and new runs continue after them
      for (const list of counters.values()) expect(new Set(list).size).toBe(list.length);
      const { run: next } = await b.client.createRun(runRequest([task('after')], 'p0'));
      expect(next.counter).toBeGreaterThan(Math.max(...(counters.get('p0') ?? [0])));
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, run, startStack, task } from './e2e-helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'child-executor.mjs');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('an executor process killed with SIGKILL in the middle of a task (local driver)', () => {
  it('its restart on the same data dir fails the task and kills the orphaned step', async () => {
    const s = await startStack({ driver: { type: 'local' }, image: 'busybox' }, { executors: [] });
    const dataDir = await mkdtemp(join(tmpdir(), 'ex-crash-'));
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, EX_DATA: dataDir, EX_RUNSERVICE: s.rsUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let pid = 0;
    try {
      const childId = await eventually(async () => {
        const m = /ID (\S+)/.exec(out);
        if (!m) throw new Error(`child executor not started yet: ${out}`);
        return m[1]!;
      });
      const pidFile = join(dataDir, 'pid');
      const runId = await s.createRun([
        task('long', s.image, [run(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`)]),
      ]);
      const id = await s.taskId(runId, 'long');
      await eventually(async () => {
        const { run: r } = await s.client.getRun(runId);
        if (r.tasks[id]!.steps[0]!.phase !== 'running') throw new Error('not running yet');
        pid = Number((await readFile(pidFile, 'utf8')).trim());
        if (!pid) throw new Error('no pid yet');
      });

      child.kill('SIGKILL');
      expect(await exited, out).toBe('SIGKILL');
      // the step outlives its executor: the crash stopped nothing
      expect(alive(pid)).toBe(true);

      const again = await s.addExecutor({ dataDir });
      expect(again.id).toBe(childId);
      const r = await s.waitRun(runId, 'finished', 'failed');
      expect(r.tasks[id]!.status).toBe('failed');
      expect(r.tasks[id]!.steps[0]!.phase).toBe('failed');
      await eventually(async () => {
        expect(alive(pid)).toBe(false);
        expect(await again.driver!.getPods()).toEqual([]);
      });
    } finally {
      child.kill('SIGKILL');
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      await s.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

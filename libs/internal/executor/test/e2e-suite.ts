import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRET_ENV_ANNOTATION, SECRET_MASK } from '../src/index.js';
import { eventually, run, startStack, task, type DriverSetup, type Stack } from './e2e-helpers.js';

/**
 * Whether `pid` still runs. A zombie (exited, not yet reaped: an orphan whose new parent, the
 * machine's init, reaps late) has stopped running and counts as gone.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces and parentheses
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * End-to-end tests: a real runservice (etcd, posix storage), the scheduler and real
 * executors with the given driver. `local` says the steps run on the host (pids and host
 * paths can be checked from the test).
 */
export function describeE2E(name: string, setup: () => Promise<DriverSetup>, local: boolean): void {
  describe(name, () => {
    const stacks: Stack[] = [];
    const dirs: string[] = [];
    afterEach(async () => {
      for (const s of stacks.splice(0)) await s.stop();
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    });
    const stack = async (o?: Parameters<typeof startStack>[1]) => {
      const s = await startStack(await setup(), o);
      stacks.push(s);
      return s;
    };

    it('runs a three-task DAG passing files through the workspace', async () => {
      const s = await stack();
      const img = s.image;
      const runId = await s.createRun([
        task('a', img, [
          run('echo A > a.txt'),
          {
            type: 'save_to_workspace',
            contents: [{ source_dir: '.', dest_dir: '.', paths: ['a.txt'] }],
          },
        ]),
        task(
          'b',
          img,
          [
            { type: 'restore_workspace', dest_dir: '.' },
            run('cat a.txt; echo B > b.txt'),
            {
              type: 'save_to_workspace',
              contents: [{ source_dir: '.', dest_dir: 'out', paths: ['b.txt'] }],
            },
          ],
          { depends: { a: ['on_success'] } },
        ),
        task(
          'c',
          img,
          [{ type: 'restore_workspace', dest_dir: 'ws' }, run('cat ws/a.txt ws/out/b.txt')],
          {
            depends: { b: ['on_success'] },
          },
        ),
      ]);
      const r = await s.waitRun(runId, 'finished', 'success');
      expect(Object.values(r.tasks).map((t) => t.status)).toEqual([
        'success',
        'success',
        'success',
      ]);
      const c = await s.taskId(runId, 'c');
      expect((await s.log(runId, c, 1)).replace(/\r/g, '')).toBe('A\nB\n');
      const b = await s.taskId(runId, 'b');
      expect((await s.log(runId, b, 1)).replace(/\r/g, '')).toBe('A\n');
      expect(await s.log(runId, b, 'setup')).toContain('Pod started.');
    });

    it('a failing task runs its on_failure branch and skips on_success; on_skipped runs', async () => {
      const s = await stack();
      const img = s.image;
      const runId = await s.createRun([
        task('a', img, [run('echo failing; exit 3'), run('echo never')]),
        task('onfail', img, [run('echo handling')], { depends: { a: ['on_failure'] } }),
        task('onsuccess', img, [run('echo deploy')], { depends: { a: ['on_success'] } }),
        task('onskipped', img, [run('echo skipped-branch')], {
          depends: { onsuccess: ['on_skipped'] },
        }),
      ]);
      const r = await s.waitRun(runId, 'finished', 'failed');
      const byName = async (n: string) => r.tasks[await s.taskId(runId, n)]!;
      const a = await byName('a');
      expect(a.status).toBe('failed');
      expect(a.steps[0]!.exit_status).toBe(3);
      expect(a.steps[1]!.phase).toBe('notstarted');
      expect((await byName('onfail')).status).toBe('success');
      expect((await byName('onsuccess')).status).toBe('skipped');
      expect((await byName('onskipped')).status).toBe('success');
      expect((await s.log(runId, a.id, 0)).replace(/\r/g, '')).toBe('failing\n');
    });

    it('ignore_failure: a failed task does not fail the run; task data is cleaned once fetched', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'e2e-clean-'));
      dirs.push(dataDir);
      const s = await stack({ executors: [{ dataDir }] });
      const runId = await s.createRun([
        task('flaky', s.image, [run('exit 1')], { ignore_failure: true }),
        task('ok', s.image, [run('true')]),
      ]);
      // the executor keeps the tasks' logs in its data dir while they run
      await eventually(async () =>
        expect((await readdir(join(dataDir, 'tasks'))).length).toBeGreaterThan(0),
      );
      const r = await s.waitRun(runId, 'finished', 'success');
      expect(r.tasks[await s.taskId(runId, 'flaky')]!.status).toBe('failed');
      expect(r.tasks[await s.taskId(runId, 'ok')]!.status).toBe('success');
      // the runservice fetched the logs and forgot the executor tasks: the data cleaner
      // removes their dirs
      await eventually(async () => expect(await readdir(join(dataDir, 'tasks'))).toEqual([]));
    });

    it('a task needing approval waits, and the scheduler approves it once it has an approver', async () => {
      const s = await stack();
      const runId = await s.createRun([
        task('deploy', s.image, [run('echo deployed')], { needs_approval: true }),
      ]);
      const id = await s.taskId(runId, 'deploy');
      await eventually(async () => {
        const { run: r } = await s.client.getRun(runId);
        if (!r.tasks[id]!.waiting_approval) throw new Error('not waiting yet');
      });
      // nothing happens without an approver
      expect((await s.scheduler.approvePass()).length).toBe(0);
      await s.client.setRunTaskAnnotations(runId, id, { approvers: JSON.stringify(['u1']) });
      const r = await s.waitRun(runId, 'finished', 'success');
      expect(r.tasks[id]!.approved).toBe(true);
    });

    it('stopping a running run kills the step and removes the pod', async () => {
      const s = await stack();
      const dir = await mkdtemp(join(tmpdir(), 'e2e-stop-'));
      dirs.push(dir);
      const pidFile = local ? `${dir}/pid` : '/tmp/pid';
      const runId = await s.createRun([
        task('long', s.image, [run(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`)]),
      ]);
      const id = await s.taskId(runId, 'long');
      await eventually(async () => {
        const { run: r } = await s.client.getRun(runId);
        if (r.tasks[id]!.steps[0]!.phase !== 'running') throw new Error('not running yet');
        if (local) await readFile(pidFile, 'utf8');
      });
      const pid = local ? Number((await readFile(pidFile, 'utf8')).trim()) : 0;
      await s.client.stopRun(runId);
      const r = await s.waitRun(runId, 'finished', 'stopped');
      expect(r.tasks[id]!.status).toBe('stopped');
      expect(r.tasks[id]!.steps[0]!.phase).toBe('stopped');
      await eventually(async () => {
        if (local) expect(alive(pid)).toBe(false);
        expect(await s.executors[0]!.driver!.getPods()).toEqual([]);
      });
    });

    it('restart from failed tasks reuses the workspace of the successful tasks', async () => {
      const s = await stack();
      const img = s.image;
      const tasks = [
        task('build', img, [
          run('echo artifact > out.txt'),
          {
            type: 'save_to_workspace',
            contents: [{ source_dir: '.', dest_dir: '.', paths: ['out.txt'] }],
          },
        ]),
        task(
          'test',
          img,
          [{ type: 'restore_workspace', dest_dir: '.' }, run('cat out.txt; test "$OK" = 1')],
          {
            depends: { build: ['on_success'] },
          },
        ),
      ];
      const first = await s.createRun(tasks, { environment: { OK: '0' } });
      await s.waitRun(first, 'finished', 'failed');
      const buildId = await s.taskId(first, 'build');
      const { run: second } = await s.client.createRun({
        run_id: first,
        from_start: false,
        environment: { OK: '1' },
      } as never);
      const r = await s.waitRun(second.id, 'finished', 'success');
      // the build task was not run again: same id, and the test restored its archive
      expect(r.tasks[buildId]?.status).toBe('success');
      const testId = Object.keys(r.tasks).find((k) => k !== buildId)!;
      expect((await s.log(second.id, testId, 1)).replace(/\r/g, '')).toBe('artifact\n');
    });

    it('a cache saved by one run is restored by the next', async () => {
      const s = await stack();
      const img = s.image;
      const first = await s.createRun(
        [
          task('save', img, [
            run('mkdir -p deps && echo cached-$V > deps/lib.txt'),
            {
              type: 'save_cache',
              key: 'deps-{{ env "V" }}',
              contents: [{ source_dir: 'deps', paths: [] }],
            },
          ]),
        ],
        { environment: { V: '7' } },
      );
      await s.waitRun(first, 'finished', 'success');
      const second = await s.createRun(
        [
          task('restore', img, [
            { type: 'restore_cache', keys: ['deps-{{ env "V" }}', 'deps-'], dest_dir: 'deps' },
            run('cat deps/lib.txt'),
          ]),
        ],
        { environment: { V: '7' } },
      );
      await s.waitRun(second, 'finished', 'success');
      const id = await s.taskId(second, 'restore');
      expect((await s.log(second, id, 1)).replace(/\r/g, '')).toBe('cached-7\n');
      expect(await s.log(second, id, 0)).toContain('restoring cache with key "deps-7"');
    });

    it('follows the log of a step that prints slowly, through the runservice', async () => {
      const s = await stack();
      const runId = await s.createRun([
        task('slow', s.image, [run('for i in 1 2 3; do echo line$i; sleep 0.4; done')]),
      ]);
      const id = await s.taskId(runId, 'slow');
      await eventually(async () => {
        const { run: r } = await s.client.getRun(runId);
        if (r.tasks[id]!.steps[0]!.phase !== 'running') throw new Error('not running yet');
      });
      let text = '';
      let phaseAtFirstLine: string | undefined;
      for await (const c of await s.client.getLogs(
        { runId, taskId: id, step: 0 },
        { follow: true },
      )) {
        text += Buffer.from(c).toString('utf8');
        if (phaseAtFirstLine === undefined && text.includes('line1')) {
          phaseAtFirstLine = (await s.client.getRun(runId)).run.tasks[id]!.steps[0]!.phase;
        }
      }
      // the first line was read while the step was still running, and the follow ended with it
      expect(phaseAtFirstLine).toBe('running');
      expect(text.replace(/\r/g, '')).toBe('line1\nline2\nline3\n');
      await s.waitRun(runId, 'finished', 'success');
    });

    it('masks secrets in plain, multi-line and chunk-split output', async () => {
      const s = await stack();
      const secret = 'sup3r-s3cret-value';
      const multi = 'first-line-of-key\nsecond-line-of-key';
      const runId = await s.createRun(
        [
          task('leak', s.image, [
            run(
              [
                'echo "plain $TOKEN end"',
                'printf "%s\\n" "$KEY"',
                // the value split over two writes with a pause between them
                'printf "half:sup3r-"; sleep 0.3; printf "s3cret-value:done\\n"',
              ].join('\n'),
            ),
          ]),
        ],
        {
          environment: { TOKEN: secret, KEY: multi },
          annotations: { [SECRET_ENV_ANNOTATION]: JSON.stringify(['TOKEN', 'KEY']) },
        },
      );
      await s.waitRun(runId, 'finished', 'success');
      const id = await s.taskId(runId, 'leak');
      const out = (await s.log(runId, id, 0)).replace(/\r/g, '');
      expect(out).not.toContain('sup3r');
      expect(out).not.toContain('first-line-of-key');
      expect(out).not.toContain('second-line-of-key');
      expect(out).toBe(`plain ${SECRET_MASK} end\n${SECRET_MASK}\nhalf:${SECRET_MASK}:done\n`);
    });

    it('a missing command fails its step with the shell message; a missing shell with a clear error', async () => {
      const s = await stack();
      const runId = await s.createRun([
        task('nocmd', s.image, [run('no-such-command-xyz')]),
        task('noshell', s.image, [run('true', { shell: '/no/such/shell' })]),
      ]);
      const r = await s.waitRun(runId, 'finished', 'failed');
      const nocmd = await s.taskId(runId, 'nocmd');
      expect(r.tasks[nocmd]!.steps[0]!.exit_status).toBe(127);
      expect(await s.log(runId, nocmd, 0)).toMatch(/no-such-command-xyz: (command )?not found/);
      const noshell = await s.taskId(runId, 'noshell');
      expect(r.tasks[noshell]!.steps[0]!.phase).toBe('failed');
      expect(await s.log(runId, noshell, 0)).toContain('/no/such/shell');
    });

    it.skipIf(local)(
      'an image that does not exist fails the task with a clear setup log',
      async () => {
        const s = await stack();
        const runId = await s.createRun([
          task('noimage', 'localhost/agola-no-such-image:1', [run('true')]),
        ]);
        const r = await s.waitRun(runId, 'finished', 'failed');
        const id = await s.taskId(runId, 'noimage');
        expect(r.tasks[id]!.setup_step.phase).toBe('failed');
        expect(r.tasks[id]!.steps[0]!.phase).toBe('notstarted');
        const setup = await s.log(runId, id, 'setup');
        expect(setup).toContain('Starting pod.');
        expect(setup).toContain('localhost/agola-no-such-image:1');
        expect(setup).toMatch(/setup failed: .*image/i);
      },
    );

    it('an executor killed in the middle of a task: its restart fails the task and kills the step', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'e2e-kill-'));
      dirs.push(dataDir);
      const s = await stack({ executors: [{ dataDir }] });
      const pidFile = local ? `${dataDir}/pid` : '/tmp/pid';
      const runId = await s.createRun([
        task('long', s.image, [run(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`)]),
      ]);
      const id = await s.taskId(runId, 'long');
      await eventually(async () => {
        const { run: r } = await s.client.getRun(runId);
        if (r.tasks[id]!.steps[0]!.phase !== 'running') throw new Error('not running yet');
        if (local) await readFile(pidFile, 'utf8');
      });
      const pid = local ? Number((await readFile(pidFile, 'utf8')).trim()) : 0;
      const old = s.executors[0]!;
      await old.stop({ abandon: true });
      const again = await s.addExecutor({ dataDir });
      expect(again.id).toBe(old.id);
      const r = await s.waitRun(runId, 'finished', 'failed');
      expect(r.tasks[id]!.status).toBe('failed');
      expect(r.tasks[id]!.steps[0]!.phase).toBe('failed');
      await eventually(async () => {
        expect(await again.driver!.getPods()).toEqual([]);
        if (local) expect(alive(pid)).toBe(false);
      });
    });

    it('two executors with activeTasksLimit 1 never run more than one task each', async () => {
      const s = await stack({ executors: [{ activeTasksLimit: 1 }, { activeTasksLimit: 1 }] });
      // created at once, each task long enough that one executor alone cannot take them all
      const runs = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          s.createRun([task('t', s.image, [run('sleep 1.5')])], {
            group: `/project/limits${process.pid}/branch/b${i}`,
          }),
        ),
      );
      for (const id of runs) await s.waitRun(id, 'finished', 'success');
      expect(s.executors.map((e) => e.maxActiveTasks)).toEqual([1, 1]);
    });
  });
}

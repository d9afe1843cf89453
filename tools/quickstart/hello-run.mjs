// The pipeline part of the quickstart: plans examples/hello with @agola-ts/runconfig, posts
// the run to a runservice, streams each task's step logs as they run and returns the result.
// Used by tools/quickstart/demo.mjs and by the test of apps/agola (so it cannot rot).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contextOfRef, planRunsFromFile } from '@agola-ts/runconfig';
import { createRunserviceClient, plannedRunToCreateRequest } from '@agola-ts/runservice-client';

export const HELLO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../examples/hello');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs examples/hello on the runservice at `runserviceURL`.
 * @param {{ runserviceURL: string, write?: (text: string) => void, timeoutMs?: number }} o
 * @returns {Promise<{ runId: string, phase: string, result: string, firstLogMs: number | undefined, logs: Map<string, string> }>}
 */
export async function runHello(o) {
  const write = o.write ?? (() => {});
  let base = o.runserviceURL;
  while (base.endsWith('/')) base = base.slice(0, -1);
  const client = createRunserviceClient({
    baseUrl: base.endsWith('/api/v1alpha') ? base : `${base}/api/v1alpha`,
  });
  const path = join(HELLO_DIR, '.agola/config.yml');
  const { runs } = await planRunsFromFile({
    data: await readFile(path, 'utf8'),
    path: '.agola/config.yml',
    context: contextOfRef('refs/heads/main', '0'.repeat(40)),
    variables: {},
    commitMessage: 'quickstart',
  });
  const planned = runs[0];
  if (!planned) throw new Error('examples/hello plans no run');
  const posted = Date.now();
  const { run } = await client.createRun(
    plannedRunToCreateRequest(planned, {
      group: `/quickstart/hello-${process.pid}-${posted}`,
      cacheGroup: '/quickstart/hello',
    }),
  );
  write(`run ${run.id} posted (counter ${run.counter})\n`);
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const tasks = Object.values(planned.tasks).sort((a, b) => a.level - b.level);
  const logs = new Map();
  let firstLogMs;
  for (const task of tasks) {
    for (let step = 0; step < task.steps.length; step++) {
      // wait until the step started, or the task ended without it
      for (;;) {
        if (Date.now() > deadline) throw new Error(`run ${run.id} did not finish in time`);
        const { run: r } = await client.getRun(run.id);
        const t = r.tasks[task.id];
        const s = t?.steps[step];
        if (s && s.phase !== 'notstarted') break;
        if (
          !t ||
          ['skipped', 'cancelled', 'stopped', 'failed'].includes(t.status) ||
          r.phase === 'finished'
        ) {
          step = task.steps.length;
          break;
        }
        await sleep(100);
      }
      if (step >= task.steps.length) break;
      const name = task.steps[step].name || task.steps[step].type;
      write(`\n--- ${task.name} / ${name} ---\n`);
      let text = '';
      for await (const chunk of await client.getLogs(
        { runId: run.id, taskId: task.id, step },
        { follow: true },
      )) {
        firstLogMs ??= Date.now() - posted;
        const part = Buffer.from(chunk).toString('utf8');
        text += part;
        write(part);
      }
      logs.set(`${task.name}/${step}`, text);
    }
  }
  for (;;) {
    const { run: r } = await client.getRun(run.id);
    if (r.phase === 'finished' || r.phase === 'cancelled') {
      write(`\nrun ${run.id}: ${r.phase}, result ${r.result}\n`);
      return { runId: run.id, phase: r.phase, result: r.result, firstLogMs, logs };
    }
    if (Date.now() > deadline) throw new Error(`run ${run.id} did not finish in time`);
    await sleep(100);
  }
}

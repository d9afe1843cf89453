// `npm run bench` in apps/web: the run and task pages measured in headless Chromium against
// a real `agola serve` (local executor) and a simulated forge, through the e2e harness, with
// the built bundle and CLI (`npx nx run-many -t build -p @agola-ts/web @agola-ts/agola`).
//   1. first load of the run page of a 27-task run: JavaScript shipped (gzip) and the time
//      from navigation to the task graph drawn (the page's `agola:run-graph-drawn` mark);
//   2. a step printing 50,000 coloured lines, followed live: time to show them all, the
//      longest gap between animation frames and the long tasks (>50 ms) while following;
//   3. the same log once finished, opened cold, then scrolled to 50 random places.
// Machine shared with other work: figures vary; compare runs on one machine only.
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { openBrowser, startStack } from '../e2e/harness.js';

const LINES = 50_000;
const FAN = 24;

const rt = `
        runtime:
          containers:
            - image: busybox:stable`;
const CONFIG = `
runs:
  - name: bench
    tasks:
      - name: checkout${rt}
        steps:
          - run: echo checkout
${Array.from(
  { length: FAN },
  (_, i) => `      - name: unit-${String(i + 1).padStart(2, '0')}
        depends: [checkout]${rt}
        steps:
          - run: echo unit ${i + 1}`,
).join('\n')}
      - name: report
        depends: [${Array.from({ length: FAN }, (_, i) => `unit-${String(i + 1).padStart(2, '0')}`).join(', ')}]${rt}
        steps:
          - run: echo report
      - name: big-log
        depends: [checkout]${rt}
        steps:
          - run:
              name: print ${LINES} lines
              command: |
                sleep 3
                awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) { printf "\\033[32m%05d\\033[0m a line of the benchmark log, with \\033[1msome\\033[0m text, number %d\\n", i, i; if (i % 2000 == 0) { fflush(); system("sleep 0.2") } } }'
                echo "end of log"
`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;

/** Records frame gaps and long tasks in the page from now on. */
async function startFrameProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __probe: { gaps: number[]; long: number[]; stop: boolean } };
    w.__probe = { gaps: [], long: [], stop: false };
    let last = performance.now();
    const tick = (t: number) => {
      w.__probe.gaps.push(t - last);
      last = t;
      if (!w.__probe.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__probe.long.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

async function stopFrameProbe(page: Page): Promise<{
  maxGap: number;
  p99Gap: number;
  frames: number;
  longTasks: number;
  longMax: number;
  longTotal: number;
}> {
  return page.evaluate(() => {
    const w = window as unknown as { __probe: { gaps: number[]; long: number[]; stop: boolean } };
    w.__probe.stop = true;
    const gaps = [...w.__probe.gaps].sort((a, b) => a - b);
    const long = w.__probe.long;
    return {
      maxGap: gaps.at(-1) ?? 0,
      p99Gap: gaps[Math.floor(gaps.length * 0.99)] ?? 0,
      frames: gaps.length,
      longTasks: long.length,
      longMax: long.length ? Math.max(...long) : 0,
      longTotal: long.reduce((s, d) => s + d, 0),
    };
  });
}

const lastLineShown = (page: Page, text: string) =>
  page.waitForFunction(
    (t) =>
      [...document.querySelectorAll('.agola-log-line')].some((e) => e.textContent?.endsWith(t)),
    text,
    { timeout: 180_000, polling: 100 },
  );

async function main(): Promise<void> {
  const stack = await startStack();
  const browser = await openBrowser();
  try {
    const user = await stack.addUser('bench');
    const project = await stack.createProject(user, { name: 'bench' });
    await stack.push(project, { '.agola/config.yml': CONFIG });
    await stack.waitRuns(user.client, project.path, (runs) => runs.length === 1);
    const run = await user.client.getRun({ kind: 'project', ref: project.path }, 1);
    const bigLog = Object.values(run.tasks).find((t) => t.name === 'big-log')!.id;
    const runURL = `${stack.url}/user/bench/projects/bench.proj/runs/1`;
    const taskURL = `${runURL}/tasks/${encodeURIComponent(bigLog)}`;
    const webURL = stack.url;

    // 2 first (the log step waits 3 s): follow the log live from before it starts
    const page = await browser.newPage(stack, user);
    await page.goto(taskURL);
    await page.locator('[data-step="0"]').waitFor();
    await startFrameProbe(page);
    await page.locator('[data-step="0"] .agola-log-line').first().waitFor({ timeout: 120_000 });
    const firstAt = await page.evaluate(() => performance.now());
    await lastLineShown(page, 'end of log');
    const lastAt = await page.evaluate(() => performance.now());
    const live = await stopFrameProbe(page);
    const rows = await page.locator('.agola-log-line').count();
    await page.close();

    // 1: first load of the run page, cold contexts
    const loads: number[] = [];
    let jsGzip = 0;
    let jsFiles = 0;
    for (let i = 0; i < 5; i++) {
      const p = await browser.newPage(stack, user);
      const scripts: Promise<Buffer>[] = [];
      p.on('response', (r) => {
        if (r.request().resourceType() === 'script' && r.url().startsWith(webURL))
          scripts.push(r.body());
      });
      await p.goto(runURL);
      await p.waitForFunction(
        () => performance.getEntriesByName('agola:run-graph-drawn').length > 0,
        undefined,
        {
          timeout: 30_000,
          polling: 50,
        },
      );
      loads.push(
        await p.evaluate(() => performance.getEntriesByName('agola:run-graph-drawn')[0]!.startTime),
      );
      if (i === 0) {
        const bodies = await Promise.all(scripts);
        jsFiles = bodies.length;
        jsGzip = bodies.reduce((s, b) => s + gzipSync(b).length, 0);
      }
      await p.context().close();
    }

    // 3: the finished log, opened cold, then scrolled around
    const p3 = await browser.newPage(stack, user);
    await p3.goto(taskURL);
    await p3.locator('[data-step="0"] button.step-head').click();
    const t0 = await p3.evaluate(() => performance.now());
    await startFrameProbe(p3);
    await lastLineShown(p3, 'end of log');
    const loaded = (await p3.evaluate(() => performance.now())) - t0;
    const open = await stopFrameProbe(p3);
    await startFrameProbe(p3);
    await p3.evaluate(async () => {
      const box = document.querySelector('.log-view') as HTMLElement;
      for (let i = 0; i < 50; i++) {
        box.scrollTop = Math.random() * box.scrollHeight;
        await new Promise((r) => requestAnimationFrame(() => r(undefined)));
        await new Promise((r) => requestAnimationFrame(() => r(undefined)));
      }
    });
    const scroll = await stopFrameProbe(p3);
    const rows3 = await p3.locator('.agola-log-line').count();
    await p3.context().close();

    const out = [
      `web bench (headless Chromium, agola serve with the local executor; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
      `run page, first load (27 tasks): JS ${jsFiles} files, ${(jsGzip / 1024).toFixed(1)} KiB gzip; graph drawn ${ms(median(loads))} after navigation (median of 5; ${loads.map((x) => x.toFixed(0)).join(', ')})`,
      `log followed live (${LINES + 1} lines over ~5 s): all shown ${ms(lastAt - firstAt)} after the first; frames: max gap ${ms(live.maxGap)}, p99 ${ms(live.p99Gap)} over ${live.frames}; long tasks ${live.longTasks} (max ${ms(live.longMax)}, total ${ms(live.longTotal)}); ${rows} line rows in the DOM`,
      `finished log opened (fetched once): last line shown ${ms(loaded)} after unfolding; max frame gap ${ms(open.maxGap)}; long tasks ${open.longTasks} (max ${ms(open.longMax)})`,
      `50 random scroll jumps: max frame gap ${ms(scroll.maxGap)}, p99 ${ms(scroll.p99Gap)}; long tasks ${scroll.longTasks}; ${rows3} line rows in the DOM`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

await main();

// The run and task pages in headless Chromium against a real `agola serve` (local executor)
// and a simulated forge: a pushed run streams its logs live, waits for an approval given
// from the run page, fails one task, is restarted from the failed tasks and succeeds; an org
// member who is not an owner sees the run but no action button.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunResponse } from '@agola-ts/gateway-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  openBrowser,
  startStack,
  type E2EBrowser,
  type Stack,
  type StackUser,
} from './harness.js';

/**
 * build (a coloured log that stops halfway until `<dir>/go` exists), test (fails the first
 * time: it leaves `<dir>/tested-once`), deploy (needs approval).
 */
function config(dir: string): string {
  const marker = `${dir}/tested-once`;
  const runtime = `
        runtime:
          containers:
            - image: busybox`;
  return `
runs:
  - name: web-e2e
    tasks:
      - name: build${runtime}
        steps:
          - run:
              name: compile
              command: |
                printf '\\033[1;32mcompiling\\033[0m with colours\\n'
                i=1
                while [ $i -le 20 ]; do
                  echo "progress line $i"; i=$((i+1)); sleep 0.1
                  # halfway, wait (at most 2 min) until the test has seen the first lines
                  if [ $i -eq 11 ]; then n=0; while [ ! -f ${dir}/go ] && [ $n -lt 600 ]; do sleep 0.2; n=$((n+1)); done; fi
                done
                echo "done compiling"
      - name: test
        depends: [build]${runtime}
        steps:
          - run:
              name: unit tests
              command: |
                if [ -f ${marker} ]; then echo "tests pass on the retry"
                else touch ${marker}; printf '\\033[31mtest failed\\033[0m\\n'; exit 1; fi
      - name: deploy
        depends: [build]
        approval: true${runtime}
        steps:
          - run:
              name: deploy
              command: echo "deployed"
`;
}

/** The text of each rendered log line of a step (without its gutter number). */
const logLines = (page: Page, step: string) =>
  page.locator(`[data-step="${step}"] .agola-log-line`).evaluateAll((els) =>
    els.map((e) =>
      [...e.childNodes]
        .slice(1)
        .map((n) => n.textContent)
        .join(''),
    ),
  );

const runState = (page: Page, state: string) =>
  page.waitForFunction(
    (s) => document.querySelector('[data-testid=run-state]')?.textContent?.trim() === s,
    state,
    { timeout: 60_000 },
  );

describe('run and task pages', () => {
  let stack: Stack;
  let browser: E2EBrowser;
  let markerDir: string;
  let alice: StackUser;
  let bob: StackUser;
  const projectPath = 'org/acme/app';
  const runURL = (n: number) => `${stack.url}/org/acme/projects/app.proj/runs/${n}`;

  beforeAll(async () => {
    markerDir = await mkdtemp(join(tmpdir(), 'agola-web-marker-'));
    stack = await startStack();
    browser = await openBrowser();
    alice = await stack.addUser('alice');
    bob = await stack.addUser('bob');
    await alice.client.createOrg({ name: 'acme', visibility: 'public' });
    await alice.client.addOrgMember('acme', 'bob', 'member');
    const project = await stack.createProject(alice, { name: 'app', parentRef: 'org/acme' });
    await stack.push(
      project,
      { '.agola/config.yml': config(markerDir) },
      {
        message: 'web e2e\n\nthe body',
      },
    );
    await stack.waitRuns(alice.client, projectPath, (runs) => runs.length === 1);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (markerDir) await rm(markerDir, { recursive: true, force: true });
  });

  it('follows a run: live log, approval, failure, restart from failed tasks', async () => {
    const owner = { kind: 'project', ref: projectPath } as const;
    const run1 = await alice.client.getRun(owner, 1);
    const idOf = (name: string) => Object.values(run1.tasks).find((t) => t.name === name)!.id;
    const page = await browser.newPage(stack, alice);

    // the build task's page while it runs: lines arrive before the step ends
    await page.goto(`${runURL(1)}/tasks/${encodeURIComponent(idOf('build'))}`);
    const compile = page.locator('[data-step="0"]');
    const lineShown = (text: string) =>
      page.waitForFunction(
        (t) =>
          [...document.querySelectorAll('[data-step="0"] .agola-log-line')].some((e) =>
            e.textContent?.endsWith(t),
          ),
        text,
        { timeout: 60_000 },
      );
    // the step is paused halfway: its first half is on the page while it still runs
    await lineShown('progress line 10');
    const early = await logLines(page, '0');
    expect(early).toEqual([
      'compiling with colours',
      ...Array.from({ length: 10 }, (_, i) => `progress line ${i + 1}`),
    ]);
    expect(await compile.getAttribute('data-phase')).toBe('running');
    await writeFile(join(markerDir, 'go'), '');
    await lineShown('done compiling');
    expect(await logLines(page, '0')).toEqual([
      'compiling with colours',
      ...Array.from({ length: 20 }, (_, i) => `progress line ${i + 1}`),
      'done compiling',
    ]);
    // the ANSI colour (SGR 1;32) became a bold green span
    const green = compile.locator('.agola-log-line span[style]').first();
    expect(await green.textContent()).toBe('compiling');
    expect(await green.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(13, 188, 121)');
    await page.waitForSelector('[data-step="0"][data-phase="success"]', { timeout: 30_000 });
    await browser.screenshot(page, 'task-build');

    // the run page: graph, the failed test, deploy waiting for approval
    await page.goto(runURL(1));
    const node = (name: string, status: string) =>
      `[data-testid=task-graph] g.task-node[data-task-id="${idOf(name)}"][data-status="${status}"]`;
    await page.waitForSelector(node('test', 'failed'), { timeout: 60_000 });
    await page.waitForSelector(node('deploy', 'waitingapproval'), { timeout: 60_000 });
    expect(await page.locator('[data-testid=task-graph] g.task-node').count()).toBe(3);
    expect(await page.locator('[data-testid=task-graph] path.edge').count()).toBe(2);
    expect(await page.locator('[data-testid=run-message]').textContent()).toContain('web e2e');
    expect(await page.locator('[data-testid=run-ref]').textContent()).toContain('main');
    // still running: stop is offered, restarts are not
    // (the rights come with the session, loaded beside the run: wait for them)
    await page.getByRole('button', { name: 'Stop' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Restart/ }).count()).toBe(0);
    await browser.screenshot(page, 'run-waiting-approval');
    // the page listens to the run events stream (its poll slows to a 30 s safety net)
    const live = page.locator('[data-testid=run-live]');
    await live.waitFor({ timeout: 30_000 });
    const refreshesBefore = Number(await live.getAttribute('data-event-refreshes'));
    await page.locator(`[data-approve="${idOf('deploy')}"]`).click();
    await page.waitForSelector(node('deploy', 'success'), { timeout: 60_000 });
    await runState(page, 'failed');
    // the run's end came as an event of this run, which refreshed the page
    await page.waitForFunction(
      (before) =>
        Number(
          document.querySelector('[data-testid=run-live]')?.getAttribute('data-event-refreshes'),
        ) > before,
      refreshesBefore,
      { timeout: 30_000 },
    );
    expect(await page.locator('[data-testid=approval]').count()).toBe(0);
    const approved = await alice.client.getRunTask(owner, 1, idOf('deploy'));
    expect(approved.approved).toBe(true);
    await browser.screenshot(page, 'run-failed');

    // the failed task's page: its log fetched once, unfolded because it failed
    await page.locator(node('test', 'failed')).click();
    await page.waitForURL(/\/tasks\//);
    await page.locator('[data-step="0"] .agola-log-line').first().waitFor();
    expect(await logLines(page, '0')).toEqual(['test failed']);
    expect(await page.locator('[data-step="0"] .step-exit').textContent()).toContain('exit 1');
    // the setup step stays folded until clicked, then shows its log
    expect(await page.locator('[data-step="setup"] .agola-log-line').count()).toBe(0);
    await page.locator('[data-step="setup"] button.step-head').click();
    await page.locator('[data-step="setup"] .log-view, [data-step="setup"] .pad').first().waitFor();
    await browser.screenshot(page, 'task-failed');

    // restart from the failed tasks: a new run where test passes and deploy is kept
    await page.goto(runURL(1));
    const restart = page.getByRole('button', { name: 'Restart from failed tasks' });
    await restart.waitFor();
    // the runservice refuses while the successful tasks' logs are still being archived
    await eventually(
      async () => {
        if (!page.url().endsWith('/runs/2')) {
          await restart.click();
          await page.waitForURL(/\/runs\/2$/, { timeout: 2000 });
        }
        return true;
      },
      60_000,
      'the restart',
    );
    await runState(page, 'success');
    const run2: RunResponse = await alice.client.getRun(owner, 2);
    expect(
      Object.values(run2.tasks)
        .map((t) => [t.name, t.status])
        .sort(),
    ).toEqual([
      ['build', 'success'],
      ['deploy', 'success'],
      ['test', 'success'],
    ]);
    await browser.screenshot(page, 'run-restarted');
    expect(browser.pageErrors).toEqual([]);
    // a whole run twice, with waits sized for a shared 2-core CI
  }, 300_000);

  it('shows an org member who is not an owner the run, without any action button', async () => {
    const page = await browser.newPage(stack, bob);
    await page.goto(runURL(1));
    await page.locator('[data-testid=task-graph] g.task-node').first().waitFor();
    await runState(page, 'failed');
    expect(await page.locator('[data-testid=run-actions] button').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Restart|Stop|Cancel|Approve/ }).count()).toBe(0);
    // alice (the org owner) gets them on the same run
    const own = await browser.newPage(stack, alice);
    await own.goto(runURL(1));
    await own.getByRole('button', { name: 'Restart from scratch' }).waitFor();
    await browser.screenshot(page, 'run-no-rights');
  }, 120_000);
});

// The run and task pages in headless Chromium against a real `agola serve` (local executor):
// a direct run streams its logs live, waits for an approval given from the page, fails one
// task, is restarted from the failed tasks and succeeds; a user without rights on the run
// gets no action button.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loggedIn,
  openBrowser,
  prerequisites,
  screenshot,
  startRunStack,
  type RunStack,
} from './run-stack.js';

const UUID = '0b5e7c1e-1d2f-4b7a-9c3e-5a6b7c8d9e0f';
const missing = await prerequisites();

function config(marker: string): string {
  const runtime = `
        runtime:
          containers:
            - image: busybox:stable`;
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
                while [ $i -le 20 ]; do echo "progress line $i"; i=$((i+1)); sleep 0.4; done
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

interface Task {
  id: string;
  name: string;
  status: string;
}
interface Run {
  number: number;
  phase: string;
  result: string;
  tasks: Record<string, Task>;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const logLines = (page: Page, step: string) =>
  page.locator(`[data-step="${step}"] .agola-log-line`).evaluateAll((els) =>
    // the line text without its gutter number
    els.map((e) =>
      [...e.childNodes]
        .slice(1)
        .map((n) => n.textContent)
        .join(''),
    ),
  );

describe.skipIf(missing !== undefined)('run and task pages in a browser', () => {
  let stack: RunStack;
  let browser: Browser;
  let markerDir: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    markerDir = await mkdtemp(join(tmpdir(), 'agola-web-marker-'));
    stack = await startRunStack({ '.agola/config.yml': config(join(markerDir, 'tested-once')) });
    browser = await openBrowser();
    const user = async (name: string) => {
      const u = await stack.api<{ id: string }>('POST', '/users', { username: name });
      const { token } = await stack.api<{ token: string }>('POST', `/users/${name}/tokens`, {
        token_name: 'web',
      });
      return { id: u.id, token };
    };
    alice = await user('alice');
    bob = await user('bob');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (markerDir) await rm(markerDir, { recursive: true, force: true });
  });

  it('follows a run: live log, approval, failure, restart from failed tasks', async () => {
    await stack.api(
      'POST',
      '/user/createrun',
      {
        repo_uuid: UUID,
        repo_path: `${alice.id}/${UUID}`,
        branch: 'main',
        commit_sha: 'c0ffee'.padEnd(40, '0'),
        message: 'web e2e\n\nthe body',
      },
      alice.token,
    );
    const run1 = await until('run 1', () =>
      stack.api<Run>('GET', '/users/alice/runs/1', undefined, alice.token),
    );
    const idOf = (name: string) => Object.values(run1.tasks).find((t) => t.name === name)!.id;

    const context = await loggedIn(browser, alice.token);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // the task page of build while it runs: lines arrive before the step ends
    await page.goto(`${stack.webURL}/user/alice/runs/1/tasks/${encodeURIComponent(idOf('build'))}`);
    const compile = page.locator('[data-step="0"]');
    await compile.locator('.agola-log-line').first().waitFor({ timeout: 60_000 });
    const early = await logLines(page, '0');
    expect(early[0]).toBe('compiling with colours');
    expect(early).not.toContain('done compiling');
    expect(await compile.getAttribute('data-phase')).toBe('running');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-step="0"] .agola-log-line')].some((e) =>
          e.textContent?.endsWith('done compiling'),
        ),
      undefined,
      { timeout: 60_000 },
    );
    const all = await logLines(page, '0');
    expect(all).toEqual([
      'compiling with colours',
      ...Array.from({ length: 20 }, (_, i) => `progress line ${i + 1}`),
      'done compiling',
    ]);
    // the ANSI colour became a styled span
    const green = compile.locator('.agola-log-line span[style]').first();
    expect(await green.textContent()).toBe('compiling');
    expect(await green.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(13, 188, 121)');
    await page.waitForSelector('[data-step="0"][data-phase="success"]', { timeout: 30_000 });
    await screenshot(page, 'task-build');

    // the run page: graph, the failed test, deploy waiting for approval
    await page.goto(`${stack.webURL}/user/alice/runs/1`);
    await page.locator('[data-testid=task-graph] g.task-node').first().waitFor();
    expect(await page.locator('[data-testid=task-graph] g.task-node').count()).toBe(3);
    expect(await page.locator('[data-testid=task-graph] path.edge').count()).toBe(2);
    await page.waitForSelector(
      `g.task-node[data-task-id="${idOf('test')}"][data-status="failed"]`,
      {
        timeout: 60_000,
      },
    );
    await page.waitForSelector(
      `g.task-node[data-task-id="${idOf('deploy')}"][data-status="waitingapproval"]`,
      {
        timeout: 60_000,
      },
    );
    expect(await page.locator('[data-testid=run-message]').textContent()).toContain('web e2e');
    expect(await page.locator('[data-testid=run-ref]').textContent()).toContain('main');
    // the run is still running: stop is offered, restarts are not
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Restart/ }).count()).toBe(0);
    await screenshot(page, 'run-waiting-approval');
    await page.locator(`[data-approve="${idOf('deploy')}"]`).click();
    await page.waitForSelector(
      `g.task-node[data-task-id="${idOf('deploy')}"][data-status="success"]`,
      {
        timeout: 60_000,
      },
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=run-state]')?.textContent?.trim() === 'failed',
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.locator('[data-testid=approval]').count()).toBe(0);
    await screenshot(page, 'run-failed');

    // the failed task's page: the finished step's log fetched once, unfolded because it failed
    await page.locator(`g.task-node[data-task-id="${idOf('test')}"]`).click();
    await page.waitForURL(/\/tasks\//);
    await page.locator('[data-step="0"] .agola-log-line').first().waitFor();
    expect(await logLines(page, '0')).toEqual(['test failed']);
    expect(await page.locator('[data-step="0"] .step-exit').textContent()).toContain('exit 1');
    // the setup step stays folded until clicked
    expect(await page.locator('[data-step="setup"] .agola-log-line').count()).toBe(0);
    await screenshot(page, 'task-failed');

    // restart from the failed tasks: a new run where test passes and deploy is kept
    await page.goto(`${stack.webURL}/user/alice/runs/1`);
    const restart = page.getByRole('button', { name: 'Restart from failed tasks' });
    await restart.waitFor();
    // the runservice refuses while the successful tasks' logs are still being fetched
    await until(
      'run 2',
      async () => {
        if (page.url().endsWith('/runs/2')) return true;
        await restart.click();
        await page.waitForURL(/\/runs\/2$/, { timeout: 2000 });
        return true;
      },
      30_000,
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=run-state]')?.textContent?.trim() === 'success',
      undefined,
      { timeout: 60_000 },
    );
    const run2 = await stack.api<Run>('GET', '/users/alice/runs/2', undefined, alice.token);
    expect(
      Object.values(run2.tasks)
        .map((t) => [t.name, t.status])
        .sort(),
    ).toEqual([
      ['build', 'success'],
      ['deploy', 'success'],
      ['test', 'success'],
    ]);
    await screenshot(page, 'run-restarted');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows no action button to a user without rights on the run', async () => {
    const context = await loggedIn(browser, bob.token);
    const page = await context.newPage();
    await page.goto(`${stack.webURL}/user/alice/runs/1`);
    await page.locator('.error-message').waitFor();
    expect(await page.locator('.error-message').textContent()).toContain('not allowed');
    expect(await page.getByRole('button', { name: /Restart|Stop|Cancel|Approve/ }).count()).toBe(0);
    await context.close();
  });
});

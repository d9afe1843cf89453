import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  ADMIN_TOKEN,
  ARTIFACTS,
  FORGE_PASSWORD,
  SIMPLE_CONFIG,
  openBrowser,
  startStack,
  type E2EBrowser,
  type Stack,
  type StackUser,
} from './harness.js';

let stack: Stack;
let browser: E2EBrowser;
let alice: StackUser;
let bob: StackUser;
let project: { id: string; path: string; repoPath: string };

const projectUrl = () => `${stack.url}/org/acme/projects/demo.proj`;

beforeAll(async () => {
  stack = await startStack();
  browser = await openBrowser();
  alice = await stack.addUser('alice');
  bob = await stack.addUser('bob');
  await alice.client.createOrg({ name: 'acme', visibility: 'public' });
  await alice.client.createProjectGroup({
    name: 'tools',
    parent_ref: 'org/acme',
    visibility: 'public',
  });
  project = await stack.createProject(alice, { name: 'demo', parentRef: 'org/acme' });
  await stack.push(project, { '.agola/config.yml': SIMPLE_CONFIG });
  await stack.waitRuns(alice.client, project.path, (runs) =>
    runs.some((r) => r.phase === 'finished'),
  );
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}

describe('the web UI against agola serve', () => {
  it('logs in with a token on the login page, then home shows orgs, projects and recent runs', async () => {
    const page = await browser.newPage(stack);
    await page.goto(`${stack.url}/`);
    await page.waitForURL(/\/login/);
    await browser.screenshot(page, 'login');
    await page.fill('input[name=token]', alice.token);
    await page.click('[data-test=token-login] button[type=submit]');
    await page.waitForURL(`${stack.url}/`);
    await page.locator('[data-test=orgs]').waitFor();
    expect(await text(page, '[data-test=orgs]')).toContain('acme');
    expect(await text(page, '[data-test=user-link]')).toBe('alice');
    await page.locator('[data-test=projects]').waitFor();
    expect(await text(page, '[data-test=projects]')).toContain('org/acme/demo');
    await page.locator('[data-test=run-row]').first().waitFor();
    expect(await text(page, '[data-test=run-row]')).toContain('#1');
    await browser.screenshot(page, 'home');
  });

  it('a wrong token is refused on the login page with a sentence', async () => {
    const page = await browser.newPage(stack);
    await page.goto(`${stack.url}/login`);
    await page.fill('input[name=token]', 'not-a-token');
    await page.click('[data-test=token-login] button[type=submit]');
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('This token is not valid');
    expect(page.url()).toContain('/login');
  });

  it('the org page shows the tree and the members, with the owner actions', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(`${stack.url}/org/acme`);
    await page.locator('[data-test=tree-project]').first().waitFor();
    expect(await text(page, '[data-test=tree-project]')).toContain('demo');
    expect(await text(page, '[data-test=tree-group]')).toContain('tools/');
    await page.locator('[data-test=members]').waitFor();
    expect(await text(page, '[data-test=members]')).toMatch(/alice\s*owner/);
    expect(await page.locator('[data-test=group-actions]').count()).toBe(1);
    expect(await page.locator('[data-test=add-member]').count()).toBe(1);
    await browser.screenshot(page, 'org');
  });

  it('the project page lists its runs with their status, filtered by the query', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(projectUrl());
    await page.locator('[data-test=run-row] [data-status=success]').waitFor();
    expect(await text(page, '[data-test=run-row]')).toContain('branch main');
    expect(await page.locator('[data-test=start-run]').count()).toBe(1);
    await browser.screenshot(page, 'project-runs');

    await page.goto(`${projectUrl()}?branch=nope`);
    await page.locator('[data-test=no-runs]').waitFor();
    expect(await text(page, '[data-test=no-runs]')).toContain('match these filters');
    await page.goto(`${projectUrl()}?result=failed`);
    await page.locator('[data-test=no-runs]').waitFor();
    await page.goto(`${projectUrl()}?branch=main&result=success`);
    await page.locator('[data-test=run-row]').first().waitFor();
    // the filter form is filled from the query
    expect(await page.inputValue('[data-test=run-filters] input')).toBe('main');
  });

  it("Agola's run link opens the run page", async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(`${stack.url}/run?projectref=${project.id}&runnumber=1`);
    await page.waitForURL(/\/org\/acme\/projects\/demo\.proj\/runs\/1$/);
  });

  it('a user without rights sees no action buttons', async () => {
    const page = await browser.newPage(stack, bob);
    await page.goto(`${stack.url}/org/acme`);
    await page.locator('[data-test=tree-project]').first().waitFor();
    await page.locator('[data-test=read-only]').waitFor();
    for (const sel of [
      '[data-test=group-actions]',
      '[data-test=add-member]',
      '[data-test=new-group]',
    ]) {
      expect(await page.locator(sel).count(), sel).toBe(0);
    }
    await browser.screenshot(page, 'org-read-only');
    await page.goto(projectUrl());
    await page.locator('[data-test=run-row]').first().waitFor();
    expect(await page.locator('[data-test=start-run]').count()).toBe(0);
    expect(await page.locator('[data-test=project-settings]').count()).toBe(0);
  });

  it("secrets and variables: a secret's value is never shown after save", async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(`${projectUrl()}/settings`);
    await page.locator('[data-test=secret-form]').waitFor();
    await page.fill('[data-test=secret-form] input[name=secret-name]', 'deploy');
    await page.fill('[data-test=secret-form] textarea', 'TOKEN=s3cr3t-value-91c2');
    await page.click('[data-test=secret-form] button[type=submit]');
    await page.locator('[data-test=secret-row]', { hasText: 'deploy' }).waitFor();
    expect(await page.inputValue('[data-test=secret-form] textarea')).toBe('');
    expect(await page.content()).not.toContain('s3cr3t-value-91c2');

    await page.fill('[data-test=variable-form] input[aria-label="variable name"]', 'token');
    await page.fill('[data-test=variable-form] input[aria-label="secret name"]', 'deploy');
    await page.fill('[data-test=variable-form] input[aria-label="secret key"]', 'TOKEN');
    await page.click('[data-test=variable-form] button[type=submit]');
    const row = page.locator('[data-test=variable-row]', { hasText: 'token' });
    await row.waitFor();
    expect(await row.textContent()).toContain('deploy.TOKEN');
    // the badge snippet of the project
    expect(await text(page, '[data-test=badge-markdown]')).toContain(
      `/api/v1alpha/badges/${encodeURIComponent('org/acme/demo')}`,
    );
    await browser.screenshot(page, 'project-settings');
    // a reload shows the saved secret by name only
    await page.reload();
    await page.locator('[data-test=secret-row]', { hasText: 'deploy' }).waitFor();
    expect(await page.content()).not.toContain('s3cr3t-value-91c2');
  });

  it('an API error shows a message, not a blank page', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(`${stack.url}/org/acme/projects/missing.proj`);
    const alert = page.locator('[role=alert]').first();
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Not found/);
    await browser.screenshot(page, 'error-not-found');

    // a session that is no longer valid goes back to the login page, which says so
    const stale = await browser.newPage(stack, { token: 'revoked-or-expired-token' });
    await stale.goto(`${stack.url}/org/acme`);
    await stale.waitForURL(/\/login\?.*expired=1/);
    await stale.getByText('Your session has ended').waitFor();
    expect(browser.pageErrors).toEqual([]);
  });

  it('logs in through the remote source with the forge password (a login JWT, as Agola)', async () => {
    const page = await browser.newPage(stack);
    await page.goto(`${stack.url}/login`);
    const form = page.locator('[data-test=login-source-forge] form');
    await form.locator('input[autocomplete=username]').fill('alice');
    await form.locator('input[type=password]').fill(FORGE_PASSWORD);
    await form.locator('button[type=submit]').click();
    await page.waitForURL(`${stack.url}/`);
    await page.locator('[data-test=user-link]').waitFor();
    expect(await text(page, '[data-test=user-link]')).toBe('alice');
    // Agola's own storage key and scheme
    const stored = await page.evaluate(() => localStorage.getItem('id_token'));
    expect(stored?.split('.')).toHaveLength(3);
  });

  it('registers a new user through the remote source, logged in right after', async () => {
    stack.forge.addUser({ login: 'dave', password: FORGE_PASSWORD });
    const page = await browser.newPage(stack);
    await page.goto(`${stack.url}/login`);
    await page.click('a[href="/register"]');
    const form = page.locator('[data-test=register-form]');
    await form.locator('input[name=username]').fill('dave');
    await form.locator('input[autocomplete=username]').fill('dave');
    await form.locator('input[type=password]').fill(FORGE_PASSWORD);
    await form.locator('button[type=submit]').click();
    await page.waitForURL(`${stack.url}/`);
    await page.locator('[data-test=user-link]', { hasText: 'dave' }).waitFor();
    const user = await stack.admin.getUser('dave');
    expect(user.linked_accounts).toHaveLength(1);
  });

  it('the admin token opens the admin pages: remote sources, users (a new token shown once)', async () => {
    const page = await browser.newPage(stack, { token: ADMIN_TOKEN });
    await page.goto(`${stack.url}/`);
    await page.locator('[data-test=admin-home]').waitFor();
    await page.click('[data-test=admin-link]');
    await page.locator('[data-test=remote-sources]', { hasText: 'forge' }).waitFor();
    await browser.screenshot(page, 'admin-remote-sources');
    await page.goto(`${stack.url}/admin/users`);
    await page.locator('[data-test=users]', { hasText: 'alice' }).waitFor();
    await page.fill('[data-test=new-user] input', 'carol');
    await page.click('[data-test=new-user] button[type=submit]');
    const shown = page.locator('[data-test=new-user-token] code');
    await shown.waitFor();
    const token = (await shown.textContent()) ?? '';
    // the token shown works for the new user
    const res = await fetch(`${stack.url}/api/v1alpha/user`, {
      headers: { authorization: `token ${token}` },
    });
    expect(((await res.json()) as { username: string }).username).toBe('carol');
    await page.locator('[data-test=users]', { hasText: 'carol' }).waitFor();
    await browser.screenshot(page, 'admin-users');

    // a user (not admin) gets no admin link and no admin forms
    const user = await browser.newPage(stack, bob);
    await user.goto(`${stack.url}/admin/users`);
    await user.locator('[role=alert]').first().waitFor();
    expect(await user.locator('[data-test=admin-link]').count()).toBe(0);
    expect(await user.locator('[data-test=new-user]').count()).toBe(0);
  });

  it("creates a project from the user's remote repositories", async () => {
    await stack.forge.createRepo({ owner: 'alice', name: 'website' });
    const page = await browser.newPage(stack, alice);
    await page.goto(`${stack.url}/org/acme`);
    await page.click('[data-test=new-project]');
    await page.waitForURL(/\/org\/acme\/newproject\?parent=org%2Facme$/);
    const form = page.locator('[data-test=new-project-form]');
    await form
      .locator('select[name=repo] option[value="alice/website"]')
      .waitFor({ state: 'attached' });
    await form.locator('select[name=repo]').selectOption('alice/website');
    expect(await form.locator('input[name=project-name]').inputValue()).toBe('website');
    await browser.screenshot(page, 'new-project');
    await form.locator('button[type=submit]').click();
    await page.waitForURL(/\/org\/acme\/projects\/website\.proj$/, { timeout: 90_000 });
    const created = await alice.client.getProject('org/acme/website');
    expect(created.name).toBe('website');
    // the gateway put its deploy key and webhook on the repo
    expect(stack.forge.hooks('alice/website')).toHaveLength(1);
  });

  it('a new run appears on the open project page without a reload (polling)', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(projectUrl());
    await page.locator('[data-test=run-row]').first().waitFor();
    const before = await page.locator('[data-test=run-row]').count();
    await stack.push(project, { 'README.md': 'second commit\n' }, { message: 'second' });
    await page.locator('[data-test=run-row]', { hasText: '#2' }).waitFor();
    expect(await page.locator('[data-test=run-row]').count()).toBe(before + 1);
    await page
      .locator('[data-test=run-row]', { hasText: '#2' })
      .locator('[data-status=success]')
      .waitFor({
        timeout: 90_000,
      });
  });

  it('pages through the runs with start (older runs, back to the newest)', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(`${projectUrl()}?limit=1`);
    const rows = page.locator('[data-test=run-row]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('#2');
    await page.click('[data-test=older]');
    await page.waitForURL(/start=2/);
    await page.locator('[data-test=run-row]', { hasText: '#1' }).waitFor();
    expect(await rows.count()).toBe(1);
    await page.click('[data-test=newest]');
    await page.locator('[data-test=run-row]', { hasText: '#2' }).waitFor();
    expect(page.url()).not.toContain('start=');
  });

  it('the project owner starts a run of a branch from the project page', async () => {
    const page = await browser.newPage(stack, alice);
    await page.goto(projectUrl());
    await page.locator('[data-test=run-row]').first().waitFor();
    await page.fill('[data-test=start-run] input', 'main');
    await page.click('[data-test=start-run] button[type=submit]');
    await page.getByText('A run of branch main was requested.').waitFor();
    await page.locator('[data-test=run-row]', { hasText: '#3' }).waitFor();
  });

  it('measures the JavaScript shipped for a first load of the run page (figure, not asserted)', async () => {
    const page = await browser.newPage(stack, alice);
    const scripts: Promise<{ url: string; raw: number; gzip: number }>[] = [];
    page.on('response', (res) => {
      if (res.request().resourceType() !== 'script') return;
      scripts.push(
        res.body().then((b) => ({
          url: new URL(res.url()).pathname,
          raw: b.length,
          gzip: gzipSync(b).length,
        })),
      );
    });
    // not 'networkidle': the page keeps its run events stream open
    await page.goto(`${projectUrl()}/runs/1`, { waitUntil: 'load' });
    // the run's title is drawn once the route's chunk and the run are in
    await page.locator('main h1').waitFor();
    const files = await Promise.all(scripts);
    // the bundle's own scripts, and /config.js
    expect(files.some((f) => f.url.startsWith('/assets/'))).toBe(true);
    const total = {
      files,
      rawBytes: files.reduce((a, f) => a + f.raw, 0),
      gzipBytes: files.reduce((a, f) => a + f.gzip, 0),
    };
    await writeFile(join(ARTIFACTS, 'first-load-run-page.json'), JSON.stringify(total, null, 2));
    console.log(
      `first load of the run page: ${files.length} scripts, ${total.rawBytes} B, ${total.gzipBytes} B gzip`,
    );
  });
});

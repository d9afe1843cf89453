import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBrowser, startStack, type E2EBrowser, type Stack } from './harness.js';

let stack: Stack;
let browser: E2EBrowser;
beforeAll(async () => {
  stack = await startStack();
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it('smoke', async () => {
  const alice = await stack.addUser('alice');
  const page = await browser.newPage(stack, alice);
  await page.goto(`${stack.url}/`);
  await browser.screenshot(page, 'smoke');
  expect(await page.title()).toBe('Agola');
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createExecutor, type AgolaExecutor } from '@agola-ts/executor';
import {
  createGatewayClient,
  type GatewayClient,
  type RunOwner,
  type RunResponse,
  type RunsResponse,
} from '@agola-ts/gateway-client';
import { createScheduler, type Scheduler } from '@agola-ts/scheduler';
import { createTestLogger } from '@agola-ts/testkit';
import type { Forge } from '@agola-ts/testkit';
import { newForge, startStack, type Stack } from './runs-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Every service: configstore, runservice, gateway (its own URL exposed), scheduler, executor. */
export interface FullStack extends Stack {
  executor: AgolaExecutor;
  scheduler: Scheduler;
  forge: Forge;
  /** A client of the gateway with no credentials. */
  anonymous: GatewayClient;
  /** A client of the gateway with the admin token. */
  admin: GatewayClient;
}

/**
 * Starts every Agola-TS service on the shared etcd and posix storage, with the local
 * executor (host processes) and a Gitea forge simulator whose SSH clone URLs are HTTP ones
 * (it has no SSH server), so the clone step of a run really clones the pushed commit.
 */
export async function startFullStack(): Promise<FullStack> {
  const stack = await startStack({ exposeOwnURL: true });
  const forge = await newForge('gitea');
  const scheduler = createScheduler(
    { runserviceURL: stack.runserviceURL },
    {
      logger: createTestLogger('scheduler', { level: 'warn' }),
      intervals: { scheduleMs: 500, approveMs: 500 },
    },
  );
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  const dataDir = await mkdtemp(join(tmpdir(), 'gw-e2e-ex-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const executor = createExecutor(
    {
      dataDir,
      runserviceURL: stack.runserviceURL,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      driver: { type: 'local' },
    },
    {
      logger: createTestLogger('executor', { level: 'warn' }),
      intervals: { heartbeatMs: 500, statusMs: 500, tasksMs: 250, followPollMs: 100 },
    },
  );
  await executor.start();
  cleanups.push(() => executor.stop());
  return {
    ...stack,
    executor,
    scheduler,
    forge,
    anonymous: createGatewayClient({ baseUrl: stack.root }),
    admin: createGatewayClient({ baseUrl: stack.root, token: stack.adminToken }),
  };
}

/**
 * Waits until the newest run of `owner` that `match` accepts exists and returns it with its
 * tasks (`GET .../runs/{n}`).
 */
export async function waitRun(
  client: GatewayClient,
  owner: RunOwner,
  match: (run: RunsResponse) => boolean,
  timeoutMs = 45_000,
): Promise<RunResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await client.getRuns(owner);
    const found = runs.find(match);
    if (found) return client.getRun(owner, found.number);
    if (Date.now() > deadline) {
      const seen = runs.map((r) => `#${r.number} ${r.phase}/${r.result}`).join(', ');
      throw new Error(`no matching run before the deadline; runs: ${seen || 'none'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The whole text of a step's log read through the gateway (following it until it ends),
 * with the terminal's CRLF line ends (run steps have a tty by default) as LF.
 */
export async function followLog(
  client: GatewayClient,
  owner: RunOwner,
  n: number,
  taskId: string,
  step: number,
): Promise<string> {
  // a step that has not started has no log yet (404): wait for it to start
  const deadline = Date.now() + 30_000;
  for (;;) {
    const task = await client.getRunTask(owner, n, taskId);
    const phase = task.steps[step]?.phase ?? 'notstarted';
    if (phase !== 'notstarted') break;
    if (Date.now() > deadline) throw new Error(`step ${step} of task ${task.name} never started`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const chunks: Uint8Array[] = [];
  for await (const c of await client.getLogs(owner, n, taskId, { step, follow: true })) {
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8').replaceAll('\r\n', '\n');
}

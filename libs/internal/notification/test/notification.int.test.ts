import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient } from '@agola-ts/etcd';
import { createTestLogger, uniquePrefix } from '@agola-ts/testkit';
import type { RunPhase } from '@agola-ts/types';
import {
  createNotification,
  WebhookDeliverer,
  type DeliveryRecord,
  type Notification,
  type NotificationConfig,
  type RunWebhookPayload,
} from '../src/index.js';
import {
  eventually,
  oneTask,
  signatureValid,
  startProxy,
  startReceiver,
  startStack,
  waitRun,
  type Proxy,
  type Stack,
} from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const WEB = 'http://agola.test';
const logLines: string[] = [];

interface Started {
  notification: Notification;
  proxy: Proxy;
  root: string;
}

/** A notification service reaching the runservice through a proxy that can drop the stream. */
async function startNotification(
  extra: Partial<NotificationConfig> = {},
  o: {
    prefix?: string;
    retry?: { initialDelayMs: number; maxDelayMs: number };
    standby?: boolean;
  } = {},
): Promise<Started> {
  const proxy = await startProxy(stack.runserviceURL);
  cleanups.push(() => proxy.close());
  const etcd = createEtcdClient({
    endpoints: [stack.etcdEndpoint],
    prefix: o.prefix ?? uniquePrefix('notif'),
  });
  cleanups.push(async () => etcd.close());
  const notification = createNotification(
    {
      id: 'agola',
      webExposedURL: WEB,
      runserviceURL: proxy.url,
      configstoreURL: stack.configstoreURL,
      web: { listen: { host: '127.0.0.1', port: 0 } },
      streamDownGrace: 300,
      ...extra,
    },
    {
      etcd,
      logger: createTestLogger('notification', {
        level: 'trace',
        write: (line) => logLines.push(line),
      }),
      deliveryRetry: { initialDelayMs: 50, maxDelayMs: 200, timeoutMs: 2000, ...o.retry },
      reconnect: { initialMs: 100, maxMs: 400 },
      lockRetryMs: 100,
      resyncMs: 600_000,
    },
  );
  await notification.start();
  cleanups.push(() => notification.stop());
  if (o.standby) return { notification, proxy, root: `http://127.0.0.1:${notification.port}` };
  // the stream is open and the first catch-up done: later runs are this service's
  await eventually(() => {
    if (!notification.streamOpen) throw new Error('stream not open yet');
  });
  await notification.idle();
  return { notification, proxy, root: `http://127.0.0.1:${notification.port}` };
}

async function createProjectRun(command: string): Promise<string> {
  const { run } = await stack.runservice.createRun({
    name: 'build',
    group: `/project/${stack.project.id}/branch/main`,
    run_config_tasks: oneTask(command),
    annotations: { commit_sha: stack.project.sha, ref: 'refs/heads/main' },
  });
  return run.id;
}

function statusesOf(runNumber: number) {
  const target = `${WEB}/run?projectref=${stack.project.id}&runnumber=${runNumber}`;
  return stack.forge
    .statuses(stack.project.repo)
    .filter((s) => s.targetURL === target)
    .map((s) => ({ state: s.state, description: s.description, context: s.context }));
}

const context = () => `agola/${stack.project.name}/build`;
const pending = () => ({ state: 'pending', description: 'The run is pending', context: context() });

describe('notification: commit statuses', () => {
  it('a run that succeeds: pending, then success, with context, description and link', async () => {
    await startNotification();
    const runId = await createProjectRun('true');
    const run = await waitRun(stack.runservice, runId, 'finished', 'success');
    await eventually(() =>
      expect(statusesOf(run.counter)).toEqual([
        pending(),
        { state: 'success', description: 'The run finished successfully', context: context() },
      ]),
    );
    const s = stack.forge.statuses(stack.project.repo).find((x) => x.state === 'success');
    expect(s?.sha).toBe(stack.project.sha);
  });

  it('a run that fails: pending, then failure (Gitea says failure for failed)', async () => {
    await startNotification();
    const runId = await createProjectRun('exit 3');
    const run = await waitRun(stack.runservice, runId, 'finished', 'failed');
    await eventually(() =>
      expect(statusesOf(run.counter)).toEqual([
        pending(),
        { state: 'failure', description: 'The run failed', context: context() },
      ]),
    );
  });

  it('a run that finishes while the event stream is down still gets its final status', async () => {
    const { notification, proxy, root } = await startNotification();
    const gateDir = await mkdtemp(join(tmpdir(), 'notif-gate-'));
    cleanups.push(() => rm(gateDir, { recursive: true, force: true }));
    const gate = join(gateDir, 'go');
    const runId = await createProjectRun(`while [ ! -f '${gate}' ]; do sleep 0.1; done`);
    const running = await waitRun(stack.runservice, runId, 'running');
    await eventually(() => expect(statusesOf(running.counter)).toEqual([pending()]));

    proxy.cut();
    await eventually(() => expect(notification.streamOpen).toBe(false));
    await writeFile(gate, '');
    await waitRun(stack.runservice, runId, 'finished', 'success');
    // a run created and finished while the stream is down: never seen in any event
    const unseenId = await createProjectRun('true');
    const unseen = await waitRun(stack.runservice, unseenId, 'finished', 'success');
    // down longer than the grace: degraded, with the reason
    await eventually(async () => {
      const res = await fetch(`${root}/health`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { reasons: { code: string }[] };
      expect(body.reasons.map((r) => r.code)).toEqual(['ERR_NOTIFICATION_STREAM_DOWN']);
    });
    expect(statusesOf(running.counter)).toEqual([pending()]);

    proxy.restore();
    const success = {
      state: 'success',
      description: 'The run finished successfully',
      context: context(),
    };
    await eventually(() => expect(statusesOf(running.counter)).toEqual([pending(), success]));
    // its final status only: the catch-up sees it finished
    await eventually(() => expect(statusesOf(unseen.counter)).toEqual([success]));
    await eventually(async () => expect((await fetch(`${root}/health`)).status).toBe(200));
    expect(logLines.some((l) => l.includes('run event stream lost, reconnecting'))).toBe(true);
  });

  it('user (direct) runs get no commit status, but their webhooks', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { notification } = await startNotification({
      runWebhooks: [{ url: `${receiver.url}/hook`, secret: 'user-run-secret' }],
    });
    const before = stack.forge.statuses(stack.project.repo).length;
    const { run } = await stack.runservice.createRun({
      name: 'build',
      group: `/user/${stack.project.userId}/branch/main`,
      run_config_tasks: oneTask('true'),
      annotations: { commit_sha: stack.project.sha },
    });
    await waitRun(stack.runservice, run.id, 'finished', 'success');
    await eventually(() => {
      const phases = receiver.received.map((r) => (JSON.parse(r.body) as RunWebhookPayload).phase);
      expect(phases.at(-1)).toBe('finished');
    });
    await notification.idle();
    expect(stack.forge.statuses(stack.project.repo).length).toBe(before);
    const last = JSON.parse(receiver.received.at(-1)!.body) as RunWebhookPayload;
    expect(last).toMatchObject({
      run_id: run.id,
      user_id: stack.project.userId,
      project_id: null,
      link: null,
      result: 'success',
    });
  });
});

describe('notification: commit statuses on GitHub', () => {
  it('pending then success, with the same context, description and link', async () => {
    const { forge, project } = await stack.addProject('github');
    await startNotification();
    const { run } = await stack.runservice.createRun({
      name: 'build',
      group: `/project/${project.id}/branch/main`,
      run_config_tasks: oneTask('true'),
      annotations: { commit_sha: project.sha },
    });
    const done = await waitRun(stack.runservice, run.id, 'finished', 'success');
    const target = `${WEB}/run?projectref=${project.id}&runnumber=${done.counter}`;
    const ctx = `agola/${project.name}/build`;
    await eventually(() =>
      expect(
        forge
          .statuses(project.repo)
          .map((s) => [s.sha, s.state, s.description, s.context, s.targetURL]),
      ).toEqual([
        [project.sha, 'pending', 'The run is pending', ctx, target],
        [project.sha, 'success', 'The run finished successfully', ctx, target],
      ]),
    );
  });
});

describe('notification: run webhooks', () => {
  it('POSTs each phase and result change, signed, and records the deliveries', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const secret = 'hook-secret-value';
    // credentials and a query value in the URL: neither may reach a log line or a record
    const hookUrl =
      receiver.url.replace('http://', 'http://hookuser:hookpass@') + '/in?token=qvalue';
    const { notification, root } = await startNotification({
      runWebhooks: [{ url: hookUrl, secret }],
    });
    const runId = await createProjectRun('true');
    const run = await waitRun(stack.runservice, runId, 'finished', 'success');
    await eventually(() => {
      const last = receiver.received.at(-1);
      expect(last && (JSON.parse(last.body) as RunWebhookPayload).phase).toBe('finished');
    });
    await notification.idle();
    const payloads = receiver.received.map((r) => JSON.parse(r.body) as RunWebhookPayload);
    // queued -> running -> finished, as the run events say (a result change while running may sit in between)
    expect(payloads.map((p) => p.phase)[0]).toBe('queued');
    expect(payloads.map((p) => `${p.phase}/${p.result}`)).toContain('running/unknown');
    expect(payloads.map((p) => `${p.phase}/${p.result}`).at(-1)).toBe('finished/success');
    for (const r of receiver.received) {
      expect(signatureValid(r, secret)).toBe(true);
      expect(signatureValid(r, 'another-secret')).toBe(false);
      expect(r.headers['x-agola-delivery']).toMatch(/^\d{15}-[0-9a-f-]{36}$/);
      expect(r.headers['authorization']).toBe(
        `Basic ${Buffer.from('hookuser:hookpass').toString('base64')}`,
      );
      expect(r.url).toBe('/in?token=qvalue');
    }
    const final = payloads.at(-1)!;
    expect(final).toMatchObject({
      agola_id: 'agola',
      run_id: runId,
      run_number: run.counter,
      run_name: 'build',
      group: `/project/${stack.project.id}/branch/main`,
      project_id: stack.project.id,
      user_id: null,
      link: `${WEB}/run?projectref=${stack.project.id}&runnumber=${run.counter}`,
      commit_sha: stack.project.sha,
      ref: 'refs/heads/main',
    });
    expect(final.project_path).toMatch(new RegExp(`/${stack.project.name}$`));
    expect(final.start_time).toBe(run.start_time);
    expect(final.end_time).toBe(run.end_time);

    const res = await fetch(`${root}/api/v1alpha/deliveries?runid=${runId}`);
    expect(res.status).toBe(200);
    const records = (await res.json()) as DeliveryRecord[];
    expect(records).toHaveLength(payloads.length);
    expect(records.every((d) => d.state === 'delivered' && d.attempts.length === 1)).toBe(true);
    expect(records.every((d) => d.webhook === `${receiver.url}/in`)).toBe(true);
    // newest first
    expect(records[0]!.phase).toBe('finished');
    const bad = await fetch(`${root}/api/v1alpha/deliveries?state=lost`);
    expect(bad.status).toBe(400);
    // the service logged this webhook (masked) and its deliveries
    expect(logLines.some((l) => l.includes(`${receiver.url}/in`))).toBe(true);
    for (const l of logLines) {
      expect(l).not.toContain('qvalue');
      expect(l).not.toContain('hookpass');
      expect(l).not.toContain(secret);
      expect(l).not.toContain(stack.project.token);
    }
  });

  it('a receiver answering 500 then 200: retried, both attempts recorded', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    receiver.script.push(500);
    const { notification } = await startNotification({
      runWebhooks: [{ url: `${receiver.url}/flaky`, secret: 's', events: ['finished'] }],
    });
    const runId = await createProjectRun('true');
    await waitRun(stack.runservice, runId, 'finished', 'success');
    await eventually(async () => {
      const [d] = await notification.deliveries({ runId });
      expect(d?.state).toBe('delivered');
    });
    const [d] = await notification.deliveries({ runId });
    expect(d!.attempts.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 200, undefined],
    ]);
    // the same delivery: same id and body on both attempts
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]!.headers['x-agola-delivery']).toBe(d!.id);
    expect(receiver.received[1]!.headers['x-agola-delivery']).toBe(d!.id);
    expect(receiver.received[1]!.headers['x-agola-attempt']).toBe('2');
    expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
  });

  it('a dead receiver: bounded retries, a recorded failure, and the service keeps working', async () => {
    const dead = await startReceiver();
    const deadUrl = `${dead.url}/gone`;
    await dead.close();
    const { notification } = await startNotification({
      runWebhooks: [{ url: deadUrl, secret: 's', events: ['finished'] }],
      deliveryAttempts: 3,
    });
    const first = await createProjectRun('true');
    await waitRun(stack.runservice, first, 'finished', 'success');
    await eventually(async () => {
      const [d] = await notification.deliveries({ runId: first });
      expect(d?.state).toBe('failed');
    });
    const [d] = await notification.deliveries({ runId: first });
    expect(d!.attempts).toHaveLength(3);
    expect(d!.attempts.every((a) => a.status === undefined && a.error === 'ECONNREFUSED')).toBe(
      true,
    );
    expect(logLines.some((l) => l.includes('run webhook delivery failed'))).toBe(true);
    // still notifying
    const second = await createProjectRun('true');
    const run = await waitRun(stack.runservice, second, 'finished', 'success');
    await eventually(() =>
      expect(statusesOf(run.counter).map((s) => s.state)).toContain('success'),
    );
    expect(notification.active).toBe(true);
  });

  it('one active instance; a standby takes over and resumes a pending delivery', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    receiver.script.push(500);
    const prefix = uniquePrefix('notif-ha');
    const hooks = {
      runWebhooks: [{ url: `${receiver.url}/ha`, secret: 's', events: ['finished' as const] }],
    };
    // the first instance would wait a minute before its second attempt
    const a = await startNotification(hooks, {
      prefix,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const b = await startNotification(hooks, { prefix, standby: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(a.notification.active).toBe(true);
    expect(b.notification.active).toBe(false);

    const runId = await createProjectRun('true');
    await waitRun(stack.runservice, runId, 'finished', 'success');
    await eventually(async () => {
      const [d] = await a.notification.deliveries({ runId });
      expect(d?.attempts.map((x) => x.status)).toEqual([500]);
      expect(d?.state).toBe('pending');
    });
    await a.notification.stop();
    await eventually(() => expect(b.notification.active).toBe(true));
    await eventually(async () => {
      const [d] = await b.notification.deliveries({ runId });
      expect(d?.state).toBe('delivered');
    });
    const [d] = await b.notification.deliveries({ runId });
    expect(d!.attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(receiver.received.map((r) => r.headers['x-agola-delivery'])).toEqual([d!.id, d!.id]);
  });
});

describe('notification: a silent event stream', () => {
  it('a stream open but silent past streamIdleTimeout is aborted, reopened, and caught up', async () => {
    const { notification, proxy } = await startNotification({ streamIdleTimeout: 1500 });
    const mark = logLines.length;
    const gateDir = await mkdtemp(join(tmpdir(), 'notif-gate-'));
    cleanups.push(() => rm(gateDir, { recursive: true, force: true }));
    const gate = join(gateDir, 'go');
    const runId = await createProjectRun(`while [ ! -f '${gate}' ]; do sleep 0.1; done`);
    const running = await waitRun(stack.runservice, runId, 'running');
    await eventually(() => expect(statusesOf(running.counter)).toEqual([pending()]));

    // the event stream's connection stays open but forwards nothing: its end event is stuck
    expect(proxy.freeze('/runs/events')).toBe(1);
    await writeFile(gate, '');
    await waitRun(stack.runservice, runId, 'finished', 'success');
    await eventually(() =>
      expect(statusesOf(running.counter)).toEqual([
        pending(),
        { state: 'success', description: 'The run finished successfully', context: context() },
      ]),
    );
    expect(notification.streamOpen).toBe(true);
    const lines = logLines.slice(mark);
    const silent = lines.filter((l) => l.includes('ERR_NOTIFICATION_STREAM_SILENT'));
    expect(silent.length).toBeGreaterThanOrEqual(1);
    // logged once per dead stream: the reconnect warning, which carries the cause
    for (const l of silent) {
      expect(l).toContain(' WARN ');
      expect(l).toContain('run event stream lost, reconnecting');
    }
    const reconnects = lines.filter((l) => l.includes('run event stream lost, reconnecting'));
    expect(reconnects).toHaveLength(silent.length);
  });
});

describe('notification: election', () => {
  it('a standby keeps one etcd lease while it waits (a new one once lost), and takes over with it', async () => {
    const prefix = uniquePrefix('notif-lease');
    const a = await startNotification({}, { prefix });
    // every try of the lock writes locks/runevents/<the lease id in hex>: one key per lease
    const watcher = createEtcdClient({ endpoints: [stack.etcdEndpoint], prefix });
    cleanups.push(async () => watcher.close());
    const ac = new AbortController();
    const from = await watcher.currentRevision();
    const standbyKeys = new Set<string>();
    let tries = 0;
    const watching = (async () => {
      try {
        for await (const w of watcher.watch('locks/runevents/', {
          startRevision: from + 1n,
          signal: ac.signal,
        })) {
          for (const ev of w.events) {
            if (ev.type !== 'put') continue;
            standbyKeys.add(ev.kv.key);
            tries++;
          }
        }
      } catch {
        // aborted
      }
    })();
    cleanups.push(async () => {
      ac.abort();
      await watching;
    });
    const b = await startNotification({}, { prefix, standby: true });
    // the standby tries every 100 ms here
    await eventually(() => expect(tries).toBeGreaterThanOrEqual(10));
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.notification.active).toBe(true);
    expect(b.notification.active).toBe(false);
    expect(standbyKeys.size).toBe(1);

    // its lease revoked behind its back: it grants one new lease and keeps trying with it
    const [first] = [...standbyKeys];
    const hex = first!.slice('locks/runevents/'.length);
    await watcher.raw.leaseClient.leaseRevoke({ ID: BigInt(`0x${hex}`).toString() });
    await eventually(() => expect(standbyKeys.size).toBe(2));
    const triesBefore = tries;
    await eventually(() => expect(tries).toBeGreaterThanOrEqual(triesBefore + 5));
    expect(standbyKeys.size).toBe(2);
    expect(b.notification.active).toBe(false);
    expect(logLines.some((l) => l.includes('notification election lease lost'))).toBe(true);

    await a.notification.stop();
    await eventually(() => expect(b.notification.active).toBe(true));
    // it took the lock with the same (second) lease
    expect(standbyKeys.size).toBe(2);
    const holders = await watcher.list('locks/runevents/');
    expect(holders.kvs.map((kv) => kv.key)).toEqual([...standbyKeys].slice(1));
    await eventually(() => expect(b.notification.streamOpen).toBe(true));
  });
});

describe('notification: deliveries listing', () => {
  const hookPayload = (runId: string, phase: RunPhase): RunWebhookPayload => ({
    agola_id: 'agola',
    run_id: runId,
    run_number: 1,
    run_name: 'build',
    group: '/user/u1/branch/main',
    project_id: null,
    project_path: null,
    user_id: 'u1',
    phase,
    result: 'unknown',
    enqueue_time: null,
    start_time: null,
    end_time: null,
    link: null,
    commit_sha: null,
    ref: null,
  });

  /** Follows the `Link: <...>; rel="next"` headers from `path`; returns every page. */
  async function allPages(root: string, path: string): Promise<DeliveryRecord[][]> {
    const pages: DeliveryRecord[][] = [];
    let next: string | undefined = path;
    while (next !== undefined) {
      const res = await fetch(`${root}${next}`);
      expect(res.status).toBe(200);
      pages.push((await res.json()) as DeliveryRecord[]);
      const link = res.headers.get('link');
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (link) expect(next).toBeDefined();
      expect(pages.length).toBeLessThan(50);
    }
    return pages;
  }

  it('pages newest or oldest first with a next link, filtered by run and state', async () => {
    const prefix = uniquePrefix('notif-pages');
    // active and caught up: it resumed the (no) pending deliveries before ours are written
    const { root } = await startNotification({}, { prefix });
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const dead = await startReceiver();
    await dead.close();
    const etcd = createEtcdClient({ endpoints: [stack.etcdEndpoint], prefix });
    cleanups.push(async () => etcd.close());
    // 'running' changes are delivered, 'finished' ones fail (a dead receiver, one attempt)
    const deliverer = new WebhookDeliverer({
      etcd,
      webhooks: [
        { url: `${receiver.url}/ok`, secret: 's', events: ['running'] },
        { url: `${dead.url}/gone`, secret: 's', events: ['finished'] },
      ],
      logger: createTestLogger('deliverer', { level: 'warn' }),
      retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10, timeoutMs: 2000 },
      retentionMs: 3_600_000,
    });
    const total = 23;
    for (let i = 0; i < total; i++) {
      await deliverer.enqueue(hookPayload(`run-${i % 3}`, i % 3 === 0 ? 'finished' : 'running'));
    }
    await deliverer.idle();
    const all = (await (
      await fetch(`${root}/api/v1alpha/deliveries?limit=1000`)
    ).json()) as DeliveryRecord[];
    expect(all).toHaveLength(total);
    const ids = all.map((d) => d.id);
    expect(ids).toEqual([...ids].sort().reverse());

    // newest first, 5 a page: 5 pages, every delivery once, in order
    const desc = await allPages(root, '/api/v1alpha/deliveries?limit=5');
    expect(desc.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(desc.flat().map((d) => d.id)).toEqual(ids);
    // oldest first; a last page that is exactly full has no next link
    const asc = await allPages(root, '/api/v1alpha/deliveries?limit=23&asc');
    expect(asc.map((p) => p.length)).toEqual([23]);
    const asc7 = await allPages(root, '/api/v1alpha/deliveries?asc=true&limit=7');
    expect(asc7.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(asc7.flat().map((d) => d.id)).toEqual([...ids].reverse());
    // a start cursor by hand: the deliveries after it
    const after = (await (
      await fetch(`${root}/api/v1alpha/deliveries?start=${ids[9]}&limit=4`)
    ).json()) as DeliveryRecord[];
    expect(after.map((d) => d.id)).toEqual(ids.slice(10, 14));

    // filters keep paging
    const failed = (await allPages(root, '/api/v1alpha/deliveries?state=failed&limit=3')).flat();
    expect(failed).toHaveLength(8);
    expect(failed.every((d) => d.state === 'failed' && d.phase === 'finished')).toBe(true);
    expect(failed.map((d) => d.id)).toEqual(
      all.filter((d) => d.state === 'failed').map((d) => d.id),
    );
    const run1 = await allPages(root, '/api/v1alpha/deliveries?runid=run-1&limit=4&asc');
    expect(run1.map((p) => p.length)).toEqual([4, 4]);
    expect(run1.flat().every((d) => d.run_id === 'run-1' && d.state === 'delivered')).toBe(true);
    const none = await allPages(root, '/api/v1alpha/deliveries?runid=run-9&state=delivered');
    expect(none).toEqual([[]]);
    // the default page holds them all, without a next link
    const dflt = await fetch(`${root}/api/v1alpha/deliveries`);
    expect(dflt.headers.get('link')).toBeNull();
    expect(((await dflt.json()) as DeliveryRecord[]).length).toBe(total);
    // the same through the API of the service
    const n = createNotification(
      {
        webExposedURL: WEB,
        runserviceURL: stack.runserviceURL,
        configstoreURL: stack.configstoreURL,
      },
      { etcd },
    );
    expect(await n.deliveriesPage()).toEqual({ deliveries: [] }); // not started
  });

  it('an invalid query: 400 with the error JSON', async () => {
    const { root } = await startNotification({}, { standby: true });
    for (const q of [
      'limit=0',
      'limit=abc',
      'limit=-1',
      'limit=1&limit=2',
      'start=123',
      'start=..%2Fruns%2Fx',
      'asc=maybe',
      'state=lost',
      'runid=',
    ]) {
      const res = await fetch(`${root}/api/v1alpha/deliveries?${q}`);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { code?: string; message?: string };
      expect(body.code, q).toBe('ERR_BAD_REQUEST');
      expect(typeof body.message, q).toBe('string');
    }
    // a limit over the maximum is cut to it
    expect((await fetch(`${root}/api/v1alpha/deliveries?limit=5000`)).status).toBe(200);
  });
});

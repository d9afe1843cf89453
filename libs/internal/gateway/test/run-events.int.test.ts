import { afterEach, describe, expect, it } from 'vitest';
import type { RunCreateRequest } from '@agola-ts/types';
import type { GatewayDeps } from '../src/index.js';
import {
  addUser,
  api,
  createProject,
  createRemoteSource,
  eventually,
  newForge,
  startStack,
  type Stack,
} from './runs-helpers.js';

/** A raw `GET /runs/events` stream: every byte received, as text. */
interface RawStream {
  status: number;
  text: () => string;
  /** The `data:` payloads received so far, parsed. */
  events: () => Record<string, unknown>[];
  close: () => void;
}

const opened: RawStream[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

async function openEvents(stack: Stack, query: string, token?: string): Promise<RawStream> {
  const ac = new AbortController();
  const res = await fetch(`${stack.api}/runs/events${query}`, {
    headers: token ? { authorization: `token ${token}` } : {},
    signal: ac.signal,
  });
  let raw = '';
  if (res.ok && res.body) {
    const decoder = new TextDecoder();
    void (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        raw += decoder.decode(chunk, { stream: true });
    })().catch(() => undefined);
  } else {
    raw = await res.text();
  }
  const stream: RawStream = {
    status: res.status,
    text: () => raw,
    events: () =>
      raw
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>),
    close: () => ac.abort(),
  };
  opened.push(stream);
  return stream;
}

/** A run (created in phase setuperror, so it needs no scheduler) in `group`: one run event. */
async function newRun(stack: Stack, group: string) {
  const req: RunCreateRequest = {
    name: 'ci',
    group,
    run_config_tasks: {},
    setup_errors: ['no config'],
  };
  return (await stack.runservice.createRun(req)).run;
}

const upstreamRequests = (stack: Stack) =>
  stack.runserviceRequests.filter((p) => p === '/api/v1alpha/runs/events').length;

async function setup(gatewayDeps?: Partial<GatewayDeps>) {
  const stack = await startStack(gatewayDeps ? { gatewayDeps } : {});
  const forge = await newForge('gitea');
  const rs = await createRemoteSource(stack, forge);
  const alice = await addUser(stack, forge, rs, 'alice');
  const bob = await addUser(stack, forge, rs, 'bob');
  const pub = await createProject(stack, forge, rs, alice, 'pub', { visibility: 'public' });
  const priv = await createProject(stack, forge, rs, alice, 'priv', { visibility: 'private' });
  return { stack, forge, rs, alice, bob, pub, priv };
}

describe('GET /runs/events', () => {
  it('checks the query and the caller: 400, 404, 403 for private projects and other users', async () => {
    const { stack, alice, bob, priv } = await setup();
    for (const q of ['', '?projectref=', '?projectref=a&userref=b', '?projectref=a&projectref=b']) {
      const res = await api(stack, 'GET', `/runs/events${q}`, { token: alice.token });
      expect(res.status, q).toBe(400);
      expect(res.json).toMatchObject({ code: 'ERR_GATEWAY_INVALID_REQUEST' });
    }
    const unknown = await api(stack, 'GET', '/runs/events?projectref=user%2Falice%2Fnope', {
      token: alice.token,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    const privRef = `?projectref=${priv.id}`;
    expect((await openEvents(stack, privRef)).status).toBe(403);
    expect((await openEvents(stack, privRef, bob.token)).status).toBe(403);
    expect((await openEvents(stack, `?userref=alice`)).status).toBe(403);
    expect((await openEvents(stack, `?userref=alice`, bob.token)).status).toBe(403);
    const ok = await openEvents(stack, privRef, alice.token);
    expect(ok.status).toBe(200);
  });

  it("delivers a run's events to who may read it; a private project's never reach others", async () => {
    const { stack, alice, bob, pub, priv } = await setup();
    const alicePriv = await openEvents(
      stack,
      `?projectref=${encodeURIComponent('user/alice/priv')}`,
      alice.token,
    );
    const anonPub = await openEvents(stack, `?projectref=${pub.id}`);
    const bobPub = await openEvents(stack, `?projectref=${pub.id}`, bob.token);
    expect([alicePriv.status, anonPub.status, bobPub.status]).toEqual([200, 200, 200]);

    const privRun = await newRun(stack, `/project/${priv.id}/branch/main`);
    const pubRun = await newRun(stack, `/project/${pub.id}/branch/main`);
    await eventually(async () => {
      expect(alicePriv.events()).toEqual([
        expect.objectContaining({
          run_id: privRun.id,
          run_number: privRun.counter,
          phase: 'setuperror',
          result: 'unknown',
          sequence: expect.any(String),
        }),
      ]);
    });
    // events go out in order: once the public run's is here, the private one's was handled
    for (const s of [anonPub, bobPub]) {
      await eventually(async () => {
        expect(s.events().map((e) => e['run_id'])).toEqual([pubRun.id]);
      });
      expect(s.text()).not.toContain(privRun.id);
    }
    expect(alicePriv.text()).not.toContain(pubRun.id);
  });

  it("a user's direct run events reach only that user (and the admin)", async () => {
    const { stack, alice, bob } = await setup();
    const aliceOwn = await openEvents(stack, '?userref=alice', alice.token);
    const adminAlice = await openEvents(stack, `?userref=${alice.user.id}`, stack.adminToken);
    const bobOwn = await openEvents(stack, '?userref=bob', bob.token);
    expect([aliceOwn.status, adminAlice.status, bobOwn.status]).toEqual([200, 200, 200]);
    const aliceRun = await newRun(stack, `/user/${alice.user.id}/branch/main`);
    const bobRun = await newRun(stack, `/user/${bob.user.id}/branch/main`);
    await eventually(async () => {
      expect(bobOwn.events().map((e) => e['run_id'])).toEqual([bobRun.id]);
    });
    for (const s of [aliceOwn, adminAlice]) {
      await eventually(async () => {
        expect(s.events().map((e) => e['run_id'])).toEqual([aliceRun.id]);
      });
      expect(s.text()).not.toContain(bobRun.id);
    }
    expect(bobOwn.text()).not.toContain(aliceRun.id);
  });

  it('shares one upstream stream between clients, and resumes after a runservice restart', async () => {
    const { stack, alice, pub, priv } = await setup();
    expect(upstreamRequests(stack)).toBe(0);
    const a = await openEvents(stack, `?projectref=${pub.id}`);
    const b = await openEvents(stack, `?projectref=${priv.id}`, alice.token);
    const c = await openEvents(stack, `?projectref=${pub.id}`, alice.token);
    expect(upstreamRequests(stack)).toBe(1);
    expect(stack.gateway.runEvents).toEqual({
      upstreamConnects: 1,
      connected: true,
      subscribers: 3,
    });
    const r1 = await newRun(stack, `/project/${pub.id}/branch/main`);
    const r2 = await newRun(stack, `/project/${priv.id}/branch/main`);
    await eventually(async () => {
      expect(a.events().map((e) => e['run_id'])).toEqual([r1.id]);
      expect(c.events().map((e) => e['run_id'])).toEqual([r1.id]);
      expect(b.events().map((e) => e['run_id'])).toEqual([r2.id]);
    });
    expect(upstreamRequests(stack)).toBe(1);

    // a client that goes away is removed at once
    c.close();
    await eventually(async () => expect(stack.gateway.runEvents.subscribers).toBe(2));

    await stack.restartRunservice();
    await eventually(async () => {
      expect(stack.gateway.runEvents.connected).toBe(true);
      expect(stack.gateway.runEvents.upstreamConnects).toBe(2);
    });
    const r3 = await newRun(stack, `/project/${pub.id}/branch/main`);
    await eventually(async () => {
      expect(a.events().map((e) => e['run_id'])).toEqual([r1.id, r3.id]);
    });
    // the reconnection (refused attempts while the runservice was down, then one that opened)
    const afterRestart = upstreamRequests(stack);
    expect(afterRestart).toBeGreaterThanOrEqual(2);
    // a new client still shares the one upstream stream
    const d = await openEvents(stack, `?projectref=${pub.id}`);
    expect(d.status).toBe(200);
    expect(upstreamRequests(stack)).toBe(afterRestart);
    d.close();
    expect(b.text()).not.toContain(r3.id);

    // no client left: the upstream stream is closed
    a.close();
    b.close();
    await eventually(async () => {
      expect(stack.gateway.runEvents.subscribers).toBe(0);
      expect(stack.gateway.runEvents.connected).toBe(false);
    });
  });

  it('ends the stream of a member removed from the org of a private project', async () => {
    const { stack, forge, rs, alice, bob } = await setup({ runEvents: { keepAliveMs: 200 } });
    let res = await api(stack, 'POST', '/orgs', {
      token: alice.token,
      body: { name: 'acme', visibility: 'public' },
    });
    expect(res.status, res.text).toBeLessThan(300);
    res = await api(stack, 'PUT', '/orgs/acme/members/bob', {
      token: alice.token,
      body: { role: 'member' },
    });
    expect(res.status, res.text).toBeLessThan(300);
    const owner = await addUser(stack, forge, rs, 'carol');
    const secret = await createProject(stack, forge, rs, owner, 'secret', {
      visibility: 'private',
      parent: 'org/acme',
    });
    const member = await openEvents(stack, `?projectref=${secret.id}`, bob.token);
    expect(member.status).toBe(200);
    const first = await newRun(stack, `/project/${secret.id}/branch/main`);
    await eventually(async () => {
      expect(member.events().map((e) => e['run_id'])).toEqual([first.id]);
    });
    res = await api(stack, 'DELETE', '/orgs/acme/members/bob', { token: alice.token });
    expect(res.status, res.text).toBeLessThan(300);
    await eventually(async () => {
      expect(member.text()).toContain('event: error\ndata: {"code":"ERR_GATEWAY_FORBIDDEN"');
    });
    const second = await newRun(stack, `/project/${secret.id}/branch/main`);
    // another reader of the project sees it, bob's ended stream does not
    const admin = await openEvents(stack, `?projectref=${secret.id}`, stack.adminToken);
    const third = await newRun(stack, `/project/${secret.id}/branch/main`);
    await eventually(async () => {
      expect(admin.events().map((e) => e['run_id'])).toContain(third.id);
    });
    expect(member.text()).not.toContain(second.id);
    expect(member.text()).not.toContain(third.id);
  });

  it('ends the stream whose token was deleted', async () => {
    const { stack, alice, bob, pub } = await setup({ runEvents: { keepAliveMs: 200 } });
    const withToken = await openEvents(stack, `?projectref=${pub.id}`, bob.token);
    const other = await openEvents(stack, `?projectref=${pub.id}`, alice.token);
    expect([withToken.status, other.status]).toEqual([200, 200]);
    const res = await api(stack, 'DELETE', `/users/bob/tokens/api`, { token: bob.token });
    expect(res.status, res.text).toBeLessThan(300);
    await eventually(async () => {
      expect(withToken.text()).toContain('event: error\ndata: {"code":"ERR_GATEWAY_FORBIDDEN"');
    });
    const run = await newRun(stack, `/project/${pub.id}/branch/main`);
    await eventually(async () => {
      expect(other.events().map((e) => e['run_id'])).toEqual([run.id]);
    });
    expect(withToken.text()).not.toContain(run.id);
  });

  it('ends the stream of a caller who lost access (the project made private)', async () => {
    const { stack, alice, pub } = await setup({ runEvents: { keepAliveMs: 200 } });
    const anon = await openEvents(stack, `?projectref=${pub.id}`);
    const owner = await openEvents(stack, `?projectref=${pub.id}`, alice.token);
    expect([anon.status, owner.status]).toEqual([200, 200]);
    const res = await api(stack, 'PUT', `/projects/${pub.id}`, {
      token: alice.token,
      body: { name: 'pub', visibility: 'private' },
    });
    expect(res.status, res.text).toBeLessThan(300);
    await eventually(async () => {
      expect(anon.text()).toContain('event: error\ndata: {"code":"ERR_GATEWAY_FORBIDDEN"');
    });
    const run = await newRun(stack, `/project/${pub.id}/branch/main`);
    await eventually(async () => {
      expect(owner.events().map((e) => e['run_id'])).toEqual([run.id]);
    });
    expect(anon.text()).not.toContain(run.id);
    expect(owner.text()).not.toContain('event: error');
  });
});

import { describe, expect, it } from 'vitest';
import {
  CONFIG_YML,
  addUser,
  api,
  createProject,
  createRemoteSource,
  newForge,
  startStack,
  eventually,
} from './runs-helpers.js';
// the runservice's protocol-level executor (no real executor exists on this branch); it is a
// test file of the runservice, not part of its package
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startTestExecutor } from '../../runservice/test/test-executor.js';

interface RunJSON {
  number: number;
  name: string;
  phase: string;
  result: string;
  annotations: Record<string, string>;
  tasks: Record<
    string,
    { id: string; name: string; depends: Record<string, unknown>; level: number }
  >;
  tasks_waiting_approval: string[];
  setup_errors: string[];
  can_restart_from_scratch: boolean;
  can_restart_from_failed_tasks: boolean;
}

async function setup() {
  const stack = await startStack();
  const forge = await newForge('gitea');
  const rs = await createRemoteSource(stack, forge);
  const alice = await addUser(stack, forge, rs, 'alice');
  const bob = await addUser(stack, forge, rs, 'bob');
  const pub = await createProject(stack, forge, rs, alice, 'pub', { visibility: 'public' });
  const priv = await createProject(stack, forge, rs, alice, 'priv', { visibility: 'private' });
  for (const repo of ['alice/pub', 'alice/priv']) {
    await forge.commit({
      repo,
      files: { '.agola/config.yml': CONFIG_YML },
      message: 'ci',
      branch: 'main',
    });
  }
  await forge.settled();
  const ref = (p: { id: string }) =>
    encodeURIComponent(`user/alice/${p.id === pub.id ? 'pub' : 'priv'}`);
  return { stack, forge, rs, alice, bob, pub, priv, pubRef: ref(pub), privRef: ref(priv) };
}

describe('run routes', () => {
  it('lists and reads runs by number, never exposing run ids, with read permissions', async () => {
    const { stack, alice, bob, pub, pubRef, privRef } = await setup();
    const [internal] = (await stack.runservice.getGroupRuns(`/project/${pub.id}`)).runs;

    // the list is auth forced
    expect((await api(stack, 'GET', `/projects/${pubRef}/runs`)).status).toBe(401);
    const list = await api(stack, 'GET', `/projects/${pubRef}/runs`, { token: bob.token });
    expect(list.status).toBe(200);
    const runs = list.json as RunJSON[];
    expect(runs.map((r) => [r.number, r.name, r.phase])).toEqual([[1, 'ci', 'queued']]);
    expect(list.text).not.toContain(internal!.id);

    // a public project's run: anyone, even anonymous
    const anon = await api(stack, 'GET', `/projects/${pubRef}/runs/1`);
    expect(anon.status).toBe(200);
    const run = anon.json as RunJSON;
    expect(run.number).toBe(1);
    expect(run.annotations['projectid']).toBe(pub.id);
    expect(run.tasks_waiting_approval).toEqual([]);
    expect(run.setup_errors).toEqual([]);
    expect(run.can_restart_from_scratch).toBe(false);
    expect(anon.text).not.toContain(internal!.id);
    const names = Object.values(run.tasks)
      .map((t) => t.name)
      .sort();
    expect(names).toEqual(['build', 'deploy']);
    const build = Object.values(run.tasks).find((t) => t.name === 'build')!;
    const deploy = Object.values(run.tasks).find((t) => t.name === 'deploy')!;
    expect(build.depends).toEqual({});
    expect(Object.keys(deploy.depends)).toEqual([build.id]);
    expect(deploy.level).toBe(1);

    // a private project's run: only members
    expect((await api(stack, 'GET', `/projects/${privRef}/runs/1`)).status).toBe(403);
    expect(
      (await api(stack, 'GET', `/projects/${privRef}/runs/1`, { token: bob.token })).status,
    ).toBe(403);
    expect(
      (await api(stack, 'GET', `/projects/${privRef}/runs`, { token: bob.token })).status,
    ).toBe(403);
    expect(
      (await api(stack, 'GET', `/projects/${privRef}/runs/1`, { token: alice.token })).status,
    ).toBe(200);
    expect(
      (await api(stack, 'GET', `/projects/${privRef}/runs/1`, { token: stack.adminToken })).status,
    ).toBe(200);

    // missing run and bad numbers
    expect((await api(stack, 'GET', `/projects/${pubRef}/runs/99`)).status).toBe(404);
    expect((await api(stack, 'GET', `/projects/${pubRef}/runs/abc`)).status).toBe(400);
    expect(
      (await api(stack, 'GET', `/projects/${pubRef}/runs?phase=nope`, { token: alice.token }))
        .status,
    ).toBe(400);

    // the task with its steps
    const task = await api(stack, 'GET', `/projects/${pubRef}/runs/1/tasks/${build.id}`);
    expect(task.status).toBe(200);
    expect(task.json).toMatchObject({
      id: build.id,
      name: 'build',
      setup_step: { name: 'Task setup' },
      steps: [
        { type: 'run', name: 'Clone repository and checkout code', shell: '/bin/sh -e' },
        { type: 'run', name: 'echo build', command: 'echo build' },
      ],
    });
    expect((await api(stack, 'GET', `/projects/${pubRef}/runs/1/tasks/nope`)).status).toBe(404);

    // logs: a step or the setup is required; the private project's are members-only
    expect(
      (await api(stack, 'GET', `/projects/${pubRef}/runs/1/tasks/${build.id}/logs`)).status,
    ).toBe(400);
    expect(
      (await api(stack, 'GET', `/projects/${privRef}/runs/1/tasks/${build.id}/logs?step=0`)).status,
    ).toBe(403);
    // no executor ran the task: the runservice's 404 is passed through
    expect(
      (await api(stack, 'GET', `/projects/${pubRef}/runs/1/tasks/${build.id}/logs?step=0`)).status,
    ).toBe(404);
  });

  it('run actions need an owner: cancel, restart from scratch', async () => {
    const { stack, alice, bob, pubRef } = await setup();
    const act = (token: string | undefined, body: unknown) =>
      api(stack, 'PUT', `/projects/${pubRef}/runs/1/actions`, {
        ...(token ? { token } : {}),
        body,
      });
    expect((await act(undefined, { action_type: 'cancel' })).status).toBe(401);
    expect((await act(bob.token, { action_type: 'cancel' })).status).toBe(403);
    expect((await act(alice.token, { action_type: 'explode' })).status).toBe(400);
    // a queued run cannot be stopped (runservice rule, passed through)
    expect((await act(alice.token, { action_type: 'stop' })).status).toBe(400);

    const cancelled = await act(alice.token, { action_type: 'cancel' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      number: 1,
      phase: 'cancelled',
      can_restart_from_scratch: true,
    });

    const restarted = await act(alice.token, { action_type: 'restart', from_start: true });
    expect(restarted.status).toBe(200);
    expect((restarted.json as RunJSON).number).toBe(2);
    expect((restarted.json as RunJSON).phase).toBe('queued');
    const list = await api(stack, 'GET', `/projects/${pubRef}/runs?asc`, { token: alice.token });
    expect((list.json as RunJSON[]).map((r) => [r.number, r.phase])).toEqual([
      [1, 'cancelled'],
      [2, 'queued'],
    ]);
    // start: only runs older than the given number
    const older = await api(stack, 'GET', `/projects/${pubRef}/runs?start=2`, {
      token: alice.token,
    });
    expect((older.json as RunJSON[]).map((r) => r.number)).toEqual([1]);
  });

  it('task approval records the approvers once each and needs an owner', async () => {
    const { stack, alice, bob, pubRef } = await setup();
    const run = (await api(stack, 'GET', `/projects/${pubRef}/runs/1`)).json as RunJSON;
    const deploy = Object.values(run.tasks).find((t) => t.name === 'deploy')!;
    const approve = (token: string | undefined, taskId = deploy.id) =>
      api(stack, 'PUT', `/projects/${pubRef}/runs/1/tasks/${taskId}/actions`, {
        ...(token ? { token } : {}),
        body: { action_type: 'approve' },
      });
    expect((await approve(undefined)).status).toBe(401);
    expect((await approve(bob.token)).status).toBe(403);
    expect((await approve(alice.token, 'nope')).status).toBe(400);
    expect((await approve(alice.token)).status).toBe(200);
    const again = await approve(alice.token);
    expect(again.status).toBe(400);
    expect((again.json as { message: string }).message).toContain('already approved');
    const task = await api(stack, 'GET', `/projects/${pubRef}/runs/1/tasks/${deploy.id}`);
    expect(
      (task.json as { approval_annotations: Record<string, string> }).approval_annotations,
    ).toEqual({
      approvers: JSON.stringify([alice.user.id]),
    });
  });

  it('manual runs (createrun) need an owner and one of branch, tag or ref', async () => {
    const { stack, alice, bob, pub, pubRef } = await setup();
    const create = (token: string | undefined, body: unknown) =>
      api(stack, 'POST', `/projects/${pubRef}/createrun`, { ...(token ? { token } : {}), body });
    expect((await create(undefined, { branch: 'main' })).status).toBe(401);
    expect((await create(bob.token, { branch: 'main' })).status).toBe(403);
    expect((await create(alice.token, {})).status).toBe(400);
    expect((await create(alice.token, { branch: 'main', tag: 'v1' })).status).toBe(400);
    const res = await create(alice.token, { branch: 'main' });
    expect(res.status).toBe(201);
    const runs = (await stack.runservice.getGroupRuns(`/project/${pub.id}`, { asc: true })).runs;
    expect(runs).toHaveLength(2);
    expect(runs[1]!.annotations).toMatchObject({
      run_creation_trigger: 'manual',
      branch: 'main',
      ref: 'refs/heads/main',
      commit_sha: runs[0]!.annotations?.['commit_sha'],
    });
  });

  it('user run routes: only the user itself or the admin', async () => {
    const { stack, alice, bob } = await setup();
    expect((await api(stack, 'GET', '/users/alice/runs', { token: alice.token })).json).toEqual([]);
    expect((await api(stack, 'GET', '/users/alice/runs', { token: stack.adminToken })).status).toBe(
      200,
    );
    expect((await api(stack, 'GET', '/users/alice/runs', { token: bob.token })).status).toBe(403);
    expect((await api(stack, 'GET', '/users/alice/runs/1')).status).toBe(403);
    expect((await api(stack, 'GET', '/users/alice/runs/1', { token: alice.token })).status).toBe(
      404,
    );
  });

  it('badges show the last run of a branch as SVG', async () => {
    const { stack, alice, pubRef } = await setup();
    const badge = async (query: string) => {
      const res = await fetch(`${stack.api}/badges/${pubRef}${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('image/svg+xml');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      return res.text();
    };
    const queued = await badge('?branch=main');
    expect(queued).toMatch(/^<svg /);
    expect(queued).toContain('inprogress');
    expect(await badge('?branch=nobranch')).toContain('unknown');
    await api(stack, 'PUT', `/projects/${pubRef}/runs/1/actions`, {
      token: alice.token,
      body: { action_type: 'cancel' },
    });
    expect(await badge('?branch=main')).toContain('failed');
    expect(
      (await fetch(`${stack.api}/badges/${encodeURIComponent('user/alice/none')}`)).status,
    ).toBe(404);
  });

  it('a run driven to success by an executor: logs streamed through, badge, log deletion', async () => {
    const { stack, alice, bob, pub, pubRef } = await setup();
    const ex = await startTestExecutor({ id: 'gw-ex1', client: stack.runservice });
    try {
      const [internal] = (await stack.runservice.getGroupRuns(`/project/${pub.id}`)).runs;
      // what the scheduler does with a queued run
      await stack.runservice.startRun(internal!.id);
      const run = await eventually(async () => {
        const r = (await api(stack, 'GET', `/projects/${pubRef}/runs/1`)).json as RunJSON;
        if (r.phase !== 'finished') throw new Error(`phase ${r.phase}`);
        return r;
      });
      expect(run.result).toBe('success');
      expect(run.can_restart_from_scratch).toBe(true);
      expect(run.can_restart_from_failed_tasks).toBe(false);
      const build = Object.values(run.tasks).find((t) => t.name === 'build')!;
      const logs = `/projects/${pubRef}/runs/1/tasks/${build.id}/logs`;
      // once the step log is archived, it is served from the runservice's storage
      const text = await eventually(async () => {
        const res = await api(stack, 'GET', `${logs}?step=1`);
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return res.text;
      });
      expect(text).toBe(`step 1 of ${build.id}\n`);
      const followed = await api(stack, 'GET', `${logs}?step=1&follow`);
      expect(followed.status).toBe(200);
      expect(followed.text).toBe(`step 1 of ${build.id}\n`);
      const setupLog = await api(stack, 'GET', `${logs}?setup`);
      expect(setupLog.text).toBe(`setup of ${build.id}\n`);

      const badge = await fetch(`${stack.api}/badges/${pubRef}?branch=main`);
      expect(await badge.text()).toContain('success');

      const denied = await api(stack, 'DELETE', `${logs}?step=1`, { token: bob.token });
      expect(denied.json).toMatchObject({ code: 'ERR_GATEWAY_FORBIDDEN' });
      expect(denied.status).toBe(403);
      expect((await api(stack, 'DELETE', `${logs}?step=1`)).status).toBe(401);
      expect((await api(stack, 'DELETE', `${logs}?step=1`, { token: alice.token })).status).toBe(
        200,
      );
      expect((await api(stack, 'GET', `${logs}?step=1`)).status).toBe(404);
    } finally {
      await ex.close();
    }
  });

  it('stop of a running run marks it stopping; a running run cannot be restarted', async () => {
    const { stack, alice, bob, pub, pubRef } = await setup();
    const ex = await startTestExecutor({
      id: 'gw-ex2',
      client: stack.runservice,
      outcome: () => 'hang',
    });
    try {
      const [internal] = (await stack.runservice.getGroupRuns(`/project/${pub.id}`)).runs;
      await stack.runservice.startRun(internal!.id);
      await eventually(async () => {
        const r = (await api(stack, 'GET', `/projects/${pubRef}/runs/1`)).json as RunJSON;
        if (r.phase !== 'running') throw new Error(`phase ${r.phase}`);
      });
      const stop = (token: string) =>
        api(stack, 'PUT', `/projects/${pubRef}/runs/1/actions`, {
          token,
          body: { action_type: 'stop' },
        });
      expect((await stop(bob.token)).status).toBe(403);
      const stopped = await stop(alice.token);
      expect(stopped.status).toBe(200);
      expect(stopped.json).toMatchObject({ number: 1, stopping: true });
      // a running run cannot be restarted (runservice rule, passed through as 400)
      const restart = await api(stack, 'PUT', `/projects/${pubRef}/runs/1/actions`, {
        token: alice.token,
        body: { action_type: 'restart', from_start: true },
      });
      expect(restart.status).toBe(400);
    } finally {
      await ex.close();
    }
  });
});

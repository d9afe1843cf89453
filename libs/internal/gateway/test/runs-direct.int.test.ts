import { describe, expect, it } from 'vitest';
import {
  CONFIG_YML,
  addUser,
  api,
  createRemoteSource,
  newForge,
  startRawFileServer,
  startStack,
} from './runs-helpers.js';

const UUID = '6f1f7a52-0b7e-4f6e-9d55-3c2f0d6f4a11';

describe('user direct runs', () => {
  it('POST /user/createrun creates the run in the user group with the given variables', async () => {
    const git = await startRawFileServer({ '.agola/config.yml': CONFIG_YML });
    const stack = await startStack({ gitserverURL: git.url });
    const forge = await newForge('gitea');
    const rs = await createRemoteSource(stack, forge);
    const alice = await addUser(stack, forge, rs, 'alice');
    const bob = await addUser(stack, forge, rs, 'bob');
    const repoPath = `${alice.user.id}/${UUID}`;
    const body = {
      repo_uuid: UUID,
      repo_path: repoPath,
      branch: 'main',
      commit_sha: 'a'.repeat(40),
      message: 'direct run',
      variables: { deploytoken: 'from-the-request' },
    };

    expect((await api(stack, 'POST', '/user/createrun', { body })).status).toBe(401);
    // another user's repo path
    expect((await api(stack, 'POST', '/user/createrun', { token: bob.token, body })).status).toBe(
      401,
    );
    expect(
      (
        await api(stack, 'POST', '/user/createrun', {
          token: alice.token,
          body: { ...body, tag: 'v1' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api(stack, 'POST', '/user/createrun', {
          token: alice.token,
          body: { ...body, pull_request_ref_regexes: ['(a+)+$'] },
        })
      ).status,
    ).toBe(400);

    const res = await api(stack, 'POST', '/user/createrun', { token: alice.token, body });
    expect(res.status).toBe(201);
    const runs = (await stack.runservice.getGroupRuns(`/user/${alice.user.id}`)).runs;
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.group).toBe(`/user/${alice.user.id}/branch/main`);
    expect(run.annotations).toMatchObject({
      run_type: 'user',
      run_creation_trigger: 'manual',
      userid: alice.user.id,
      message: 'direct run',
      commit_sha: 'a'.repeat(40),
    });
    expect(run.annotations?.['projectid']).toBeUndefined();
    const { run_config: rc } = await stack.runservice.getRun(run.id);
    expect(rc.cache_group).toBe(`${alice.user.id}-${UUID}`);
    // the clone URL carries a read-only token of the repo (see repos-proxy.int.test.ts)
    const cloneURL = new URL(rc.static_environment?.['AGOLA_REPOSITORY_URL'] ?? '');
    expect(`${cloneURL.origin}${cloneURL.pathname}`).toBe(`http://127.0.0.1/repos/${repoPath}.git`);
    expect(cloneURL.username).toBe('agola-clone');
    expect(cloneURL.password.split('.')).toHaveLength(3);
    const build = Object.values(rc.tasks).find((t) => t.name === 'build')!;
    expect(build.environment).toEqual({ TOKEN: 'from-the-request', PLAIN: 'hello' });
    expect(git.requests.at(-1)).toBe(`/${repoPath}.git/raw/${'a'.repeat(40)}/.agola/config.yml`);

    // the user's runs through the gateway, by number
    const list = await api(stack, 'GET', '/users/alice/runs', { token: alice.token });
    expect(
      (list.json as { number: number; name: string }[]).map((r) => [r.number, r.name]),
    ).toEqual([[1, 'ci']]);
    expect((await api(stack, 'GET', '/users/alice/runs/1', { token: bob.token })).status).toBe(403);
    const cancelled = await api(stack, 'PUT', '/users/alice/runs/1/actions', {
      token: alice.token,
      body: { action_type: 'cancel' },
    });
    expect(cancelled.json).toMatchObject({ number: 1, phase: 'cancelled' });
  });
});

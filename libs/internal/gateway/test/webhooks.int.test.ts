import { describe, expect, it } from 'vitest';
import { SECRET_ENV_ANNOTATION, type Run } from '@agola-ts/types';
import {
  CONFIG_YML,
  addUser,
  api,
  createProject,
  createRemoteSource,
  newForge,
  startStack,
  type Stack,
} from './runs-helpers.js';

async function projectRuns(stack: Stack, projectId: string): Promise<Run[]> {
  const res = await stack.runservice.getGroupRuns(`/project/${projectId}`, { asc: true });
  return res.runs;
}

async function setup(o: { passVarsToForkedPR?: boolean; gatewayLog?: string[] } = {}) {
  const stack = await startStack(o.gatewayLog ? { gatewayLog: o.gatewayLog } : {});
  const forge = await newForge('gitea');
  const rs = await createRemoteSource(stack, forge);
  const alice = await addUser(stack, forge, rs, 'alice');
  const project = await createProject(stack, forge, rs, alice, 'repo1', o);
  await stack.configstore.createSecret('project', project.id, {
    Name: 'mysecret',
    Type: 'internal',
    Data: { token: 'the-secret-token', other: 'the-other-value' },
  });
  await stack.configstore.createVariable('project', project.id, {
    Name: 'deploytoken',
    Values: [
      // the first value whose `when` matches wins: not this one on main
      { secret_name: 'mysecret', secret_var: 'other', when: { branch: 'release' } },
      { secret_name: 'mysecret', secret_var: 'token' },
    ],
  });
  return { stack, forge, rs, alice, project };
}

describe('webhooks → run creation', () => {
  it('a push creates a run with its tasks, annotations, static environment and variables', async () => {
    const gatewayLog: string[] = [];
    const { stack, forge, project, alice } = await setup({ gatewayLog });
    const sha = await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      message: 'add the ci config',
      branch: 'main',
    });
    await forge.settled();
    expect(forge.deliveries.at(-1)?.status).toBe(200);

    const runs = await projectRuns(stack, project.id);
    // the tags-only run's `when` does not match a branch
    expect(runs.map((r) => r.name)).toEqual(['ci']);
    const run = runs[0]!;
    expect(run.group).toBe(`/project/${project.id}/branch/main`);
    expect(run.phase).toBe('queued');
    expect(run.annotations).toMatchObject({
      run_type: 'project',
      ref_type: 'branch',
      run_creation_trigger: 'webhook',
      webhook_event: 'push',
      webhook_sender: 'alice',
      commit_sha: sha,
      ref: 'refs/heads/main',
      projectid: project.id,
      branch: 'main',
    });
    expect(run.annotations?.['commit_link']).toContain(sha);
    // the commit message as the forge sends it
    expect(run.annotations?.['message']?.trim()).toBe('add the ci config');

    const { run_config: rc } = await stack.runservice.getRun(run.id);
    expect(rc.static_environment).toMatchObject({
      CI: 'true',
      AGOLA_GIT_COMMITSHA: sha,
      AGOLA_GIT_BRANCH: 'main',
      AGOLA_GIT_REF: 'refs/heads/main',
      AGOLA_GIT_REF_TYPE: 'branch',
      AGOLA_SSHPRIVKEY: 'not-a-real-key',
      AGOLA_SKIPSSHHOSTKEYCHECK: '1',
    });
    const tasks = Object.values(rc.tasks);
    const build = tasks.find((t) => t.name === 'build')!;
    const deploy = tasks.find((t) => t.name === 'deploy')!;
    // the variable resolved through its first matching value to the secret's data
    expect(build.environment).toEqual({ TOKEN: 'the-secret-token', PLAIN: 'hello' });
    expect(build.runtime?.containers[0]?.environment).toEqual({
      CONTAINER_SECRET: 'the-secret-token',
    });
    expect(build.steps?.[0]).toMatchObject({
      type: 'run',
      name: 'Clone repository and checkout code',
    });
    expect(deploy.depends).toEqual({
      [build.id]: { task_id: build.id, conditions: ['on_success'] },
    });
    expect(deploy.needs_approval).toBe(true);
    // its `when` (branch release) does not match main: skipped from the start
    expect(deploy.skip).toBe(true);
    expect(build.skip).toBe(false);
    // the names (never the values) of the environment that came from secrets, for the executor
    expect(JSON.parse(run.annotations?.[SECRET_ENV_ANNOTATION] ?? '[]')).toEqual([
      'CONTAINER_SECRET',
      'TOKEN',
    ]);
    expect(run.annotations?.[SECRET_ENV_ANNOTATION]).not.toContain('the-secret-token');

    // the gateway logged at trace level and never wrote a secret, a token or the webhook secret
    expect(gatewayLog.some((l) => l.includes('webhook handled'))).toBe(true);
    for (const secret of [
      'the-secret-token',
      'the-other-value',
      alice.forgeUser.token,
      alice.token,
      project.webhook_secret!,
      'not-a-real-key',
    ]) {
      expect(gatewayLog.filter((l) => l.includes(secret))).toEqual([]);
    }
  });

  it('a tag creates the runs whose `when` matches the tag, in config order', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      branch: 'main',
    });
    await forge.tag({ repo: 'alice/repo1', tag: 'v1.0.0' });
    await forge.settled();
    const runs = await projectRuns(stack, project.id);
    const tagRuns = runs.filter((r) => r.annotations?.['ref_type'] === 'tag');
    // ci has no `when` (every ref); tags-only matches the tag
    expect(tagRuns.map((r) => r.name)).toEqual(['ci', 'tags-only']);
    expect(tagRuns[1]!.group).toBe(`/project/${project.id}/tag/v1.0.0`);
    expect(tagRuns[1]!.annotations).toMatchObject({ tag: 'v1.0.0', message: 'Tag v1.0.0' });
  });

  it('a broken config creates one "Setup Error" run with the errors', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': 'runs:\n  - name: ci\n    tasks:\n      - name: t\n' },
      branch: 'main',
    });
    await forge.settled();
    const runs = await projectRuns(stack, project.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.name).toBe('Setup Error');
    expect(runs[0]!.phase).toBe('setuperror');
    const { run_config: rc } = await stack.runservice.getRun(runs[0]!.id);
    expect(rc.setup_errors?.length).toBeGreaterThan(0);
    expect(rc.setup_errors?.join('\n')).toMatch(/runtime/);
  });

  it('a commit without any config file gets a 500 after the retries and creates nothing', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { 'README.md': 'no ci here' },
      branch: 'main',
    });
    await forge.settled();
    // 4 attempts over the 4 config paths, with backoff, then a server error the forge may redeliver
    expect(forge.deliveries.at(-1)?.status).toBe(500);
    expect(await projectRuns(stack, project.id)).toEqual([]);
  });

  it('[ci skip] in the commit message creates nothing', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      message: 'docs only [ci skip]',
      branch: 'main',
    });
    await forge.settled();
    expect(forge.deliveries.at(-1)?.status).toBe(200);
    expect(await projectRuns(stack, project.id)).toEqual([]);
  });

  it('a pull request from a fork gets no variables; a same-repo one does', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      branch: 'main',
    });
    await forge.commit({ repo: 'alice/repo1', files: { 'a.txt': 'a' }, branch: 'feature' });
    await forge.commit({ repo: 'alice/repo1', files: { 'b.txt': 'b' }, branch: 'feature2' });
    const fork = await forge.openPullRequest({
      repo: 'alice/repo1',
      head: 'feature',
      title: 'from a fork',
      fromFork: true,
    });
    const same = await forge.openPullRequest({
      repo: 'alice/repo1',
      head: 'feature2',
      title: 'same repo',
    });
    await forge.settled();
    const runs = await projectRuns(stack, project.id);
    const envOf = async (prId: number) => {
      const run = runs.find((r) => r.group === `/project/${project.id}/pr/${prId}`);
      expect(run).toBeDefined();
      const { run_config: rc } = await stack.runservice.getRun(run!.id);
      return Object.values(rc.tasks).find((t) => t.name === 'build')!.environment;
    };
    expect(await envOf(fork.number)).toEqual({ TOKEN: '', PLAIN: 'hello' });
    expect(await envOf(same.number)).toEqual({ TOKEN: 'the-secret-token', PLAIN: 'hello' });
  });

  it('pass_vars_to_forked_pr gives a fork pull request the variables', async () => {
    const { stack, forge, project } = await setup({ passVarsToForkedPR: true });
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      branch: 'main',
    });
    await forge.commit({ repo: 'alice/repo1', files: { 'a.txt': 'a' }, branch: 'feature' });
    const pr = await forge.openPullRequest({
      repo: 'alice/repo1',
      head: 'feature',
      title: 'fork',
      fromFork: true,
    });
    await forge.settled();
    const run = (await projectRuns(stack, project.id)).find(
      (r) => r.group === `/project/${project.id}/pr/${pr.number}`,
    )!;
    const { run_config: rc } = await stack.runservice.getRun(run.id);
    expect(Object.values(rc.tasks).find((t) => t.name === 'build')!.environment).toEqual({
      TOKEN: 'the-secret-token',
      PLAIN: 'hello',
    });
  });

  it('a bad signature, a missing or unknown project answer 400 and create nothing', async () => {
    const { stack, forge, project } = await setup();
    await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      branch: 'main',
    });
    await forge.settled();
    const delivery = forge.deliveries.at(-1)!;
    expect(delivery.status).toBe(200);
    const before = await projectRuns(stack, project.id);
    expect(before).toHaveLength(1);

    const post = (query: string, headers: Record<string, string>, body: string) =>
      fetch(`${stack.root}/webhooks${query}`, { method: 'POST', headers, body });
    const badSig = { ...delivery.headers, 'x-gitea-signature': '0'.repeat(64) };
    delete (badSig as Record<string, string>)['X-Gitea-Signature'];
    const res = await post(
      `?projectid=${project.id}`,
      lowerKeys(badSig, '0'.repeat(64)),
      delivery.body,
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ERR_GATEWAY_WEBHOOK_SIGNATURE' });
    // a body changed after signing
    const tampered = await post(
      `?projectid=${project.id}`,
      lowerKeys(delivery.headers),
      delivery.body.replace('alice', 'mallory'),
    );
    expect(tampered.status).toBe(400);
    const noProject = await post('', lowerKeys(delivery.headers), delivery.body);
    expect(noProject.status).toBe(400);
    expect(await noProject.json()).toMatchObject({ code: 'ERR_GATEWAY_WEBHOOK_INVALID' });
    const unknown = await post(
      '?projectid=0b6b2a8e-1111-4222-8333-944455556666',
      lowerKeys(delivery.headers),
      delivery.body,
    );
    expect(unknown.status).toBe(400);
    expect(await projectRuns(stack, project.id)).toHaveLength(before.length);

    // the genuine delivery replayed still works (the checks above did not break the route)
    const replay = await post(
      `?projectid=${project.id}`,
      lowerKeys(delivery.headers),
      delivery.body,
    );
    expect(replay.status).toBe(200);
    expect(await projectRuns(stack, project.id)).toHaveLength(before.length + 1);
  });
});

describe('end to end through the gateway', () => {
  it('a project created through the API gets a webhook that creates runs on push', async () => {
    const stack = await startStack({ exposeOwnURL: true });
    const forge = await newForge('gitea');
    const rs = await createRemoteSource(stack, forge);
    const alice = await addUser(stack, forge, rs, 'alice');
    await forge.createRepo({ owner: 'alice', name: 'app' });
    const created = await api(stack, 'POST', '/projects', {
      token: alice.token,
      body: {
        name: 'app',
        parent_ref: 'user/alice',
        visibility: 'public',
        repo_path: 'alice/app',
        remote_source_name: rs.name,
      },
    });
    expect(created.status).toBe(201);
    const projectId = (created.json as { id: string }).id;
    expect(forge.hooks('alice/app').map((h) => h.url)).toEqual([
      `${stack.root}/webhooks?agolaid=agola&projectid=${projectId}`,
    ]);
    const sha = await forge.commit({
      repo: 'alice/app',
      files: { '.agola/config.yml': CONFIG_YML },
      message: 'ci',
      branch: 'main',
    });
    await forge.settled();
    expect(forge.deliveries.at(-1)?.status).toBe(200);
    const runs = await api(stack, 'GET', `/projects/${encodeURIComponent('user/alice/app')}/runs`, {
      token: alice.token,
    });
    expect(runs.json).toMatchObject([
      { number: 1, name: 'ci', phase: 'queued', annotations: { commit_sha: sha, branch: 'main' } },
    ]);
  });
});

describe.each(['github', 'gitlab'] as const)('webhooks from %s', (type) => {
  it('a push creates the run; a forged signature or token creates nothing', async () => {
    const stack = await startStack();
    const forge = await newForge(type);
    const rs = await createRemoteSource(stack, forge);
    const alice = await addUser(stack, forge, rs, 'alice');
    const project = await createProject(stack, forge, rs, alice, 'repo1');
    const sha = await forge.commit({
      repo: 'alice/repo1',
      files: { '.agola/config.yml': CONFIG_YML },
      message: 'ci',
      branch: 'main',
    });
    await forge.settled();
    const delivery = forge.deliveries.at(-1)!;
    expect(delivery.status).toBe(200);
    const runs = await projectRuns(stack, project.id);
    expect(runs.map((r) => r.name)).toEqual(['ci']);
    expect(runs[0]!.annotations).toMatchObject({
      webhook_event: 'push',
      commit_sha: sha,
      branch: 'main',
      ref: 'refs/heads/main',
    });

    const headers = lowerKeys(delivery.headers);
    for (const name of ['x-hub-signature-256', 'x-hub-signature', 'x-gitlab-token']) {
      if (Object.hasOwn(headers, name))
        headers[name] = name === 'x-gitlab-token' ? 'wrong' : 'sha256=00';
    }
    const res = await fetch(`${stack.root}/webhooks?projectid=${project.id}`, {
      method: 'POST',
      headers,
      body: delivery.body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ERR_GATEWAY_WEBHOOK_SIGNATURE' });
    expect(await projectRuns(stack, project.id)).toHaveLength(1);
  });
});

/** Headers with lower-case names (the delivery's own casing), optionally with a forged signature. */
function lowerKeys(h: Record<string, string>, signature?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    const key = k.toLowerCase();
    if (key === 'content-length' || key === 'host') continue;
    out[key] = v;
  }
  if (signature !== undefined) out['x-gitea-signature'] = signature;
  return out;
}

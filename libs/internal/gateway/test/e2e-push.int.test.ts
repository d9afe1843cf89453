import { describe, expect, it } from 'vitest';
import type { RunOwner } from '@agola-ts/gateway-client';
import { followLog, startFullStack, waitRun } from './e2e-helpers.js';
import { eventually } from './runs-helpers.js';

const PASSING = `
version: v0
runs:
  - name: e2e
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
        environment:
          TOKEN:
            from_variable: deploytoken
        steps:
          - type: clone
          - run: cat hello.txt
          - run: 'echo "token=[$TOKEN] branch=$AGOLA_GIT_BRANCH"'
      - name: after
        runtime:
          containers:
            - image: busybox
        depends:
          - build
        steps:
          - run: echo after build
`;

const FAILING = `
version: v0
runs:
  - name: e2e
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
        steps:
          - run: echo about to fail; exit 3
`;

const SECRET_VALUE = 'e2e-secret-value-0123456789';

describe('end to end: forge push -> webhook -> gateway -> runservice -> scheduler -> executor', () => {
  // three runs through every service: generous on a loaded CI machine
  it('a user registered through Gitea pushes a config: the run succeeds, logs through the gateway; a failing config fails; a fork PR gets no variables', async () => {
    const s = await startFullStack();
    const { forge } = s;

    // register and log in through a password remote source
    await s.admin.createRemoteSource({
      name: 'gitea',
      apiurl: forge.apiURL,
      type: 'gitea',
      auth_type: 'password',
      skip_ssh_host_key_check: true,
    });
    forge.addUser({ login: 'alice', password: 'alice-pw' });
    await s.anonymous.register({
      username: 'alice',
      remote_source_name: 'gitea',
      remote_source_login_name: 'alice',
      remote_source_login_password: 'alice-pw',
    });
    const { token } = await s.anonymous.login({
      remote_source_name: 'gitea',
      login_name: 'alice',
      password: 'alice-pw',
    });
    s.anonymous.setBearer(token);
    const alice = s.anonymous;
    expect((await alice.getCurrentUser()).username).toBe('alice');

    // an org and a project on a forge repo: the deploy key and the webhook appear on the forge
    const repo = await forge.createRepo({ owner: 'alice', name: 'app' });
    await alice.createOrg({ name: 'acme', visibility: 'public' });
    const project = await alice.createProject({
      name: 'app',
      parent_ref: 'org/acme',
      visibility: 'public',
      repo_path: repo.path,
      remote_source_name: 'gitea',
    });
    expect(forge.deployKeys(repo.path)).toHaveLength(1);
    const hooks = forge.hooks(repo.path);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.url).toBe(`${s.root}/webhooks?agolaid=agola&projectid=${project.id}`);
    await alice.createSecret('project', project.path, {
      name: 'creds',
      data: { token: SECRET_VALUE },
    });
    await alice.createVariable('project', project.path, {
      name: 'deploytoken',
      values: [{ secret_name: 'creds', secret_var: 'token' }],
    });
    const owner: RunOwner = { kind: 'project', ref: project.path };

    // a push -> webhook -> run; the steps' logs followed through the gateway while it runs
    const sha = await forge.commit({
      repo: repo.path,
      files: { '.agola/config.yml': PASSING, 'hello.txt': 'hello from the pushed commit\n' },
      message: 'ci config',
      branch: 'main',
    });
    await forge.settled();
    expect(forge.deliveries.at(-1)?.status).toBe(200);
    const started = await waitRun(alice, owner, (r) => r.phase !== 'queued');
    expect(started.phase).toBe('running');
    expect(started.annotations).toMatchObject({ commit_sha: sha, branch: 'main' });
    const build = Object.values(started.tasks).find((t) => t.name === 'build')!;
    const cloneLog = await followLog(alice, owner, started.number, build.id, 0);
    expect(cloneLog).toContain('git clone');
    expect(await followLog(alice, owner, started.number, build.id, 1)).toBe(
      'hello from the pushed commit\n',
    );
    const envLog = await followLog(alice, owner, started.number, build.id, 2);
    // the secret reaches the step and is masked in its log
    expect(envLog).toMatch(/^token=\[\S+\] branch=main\n$/);
    expect(envLog).not.toContain(SECRET_VALUE);
    expect(envLog).not.toContain('token=[]');
    const done = await waitRun(
      alice,
      owner,
      (r) => r.number === started.number && r.phase === 'finished',
    );
    expect(done.result).toBe('success');
    expect(Object.values(done.tasks).map((t) => [t.name, t.status])).toEqual(
      expect.arrayContaining([
        ['build', 'success'],
        ['after', 'success'],
      ]),
    );
    const after = Object.values(done.tasks).find((t) => t.name === 'after')!;
    expect(await followLog(alice, owner, done.number, after.id, 0)).toBe('after build\n');
    await eventually(async () => {
      const task = await alice.getRunTask(owner, done.number, build.id);
      expect(task.steps.map((st) => st.exit_status)).toEqual([0, 0, 0]);
    });

    // a failing config: the run fails, its log says why
    await forge.commit({
      repo: repo.path,
      files: { '.agola/config.yml': FAILING },
      branch: 'main',
    });
    await forge.settled();
    const failed = await waitRun(
      alice,
      owner,
      (r) => r.number > done.number && r.phase === 'finished',
    );
    expect(failed.result).toBe('failed');
    const failedTask = Object.values(failed.tasks)[0]!;
    expect(failedTask.status).toBe('failed');
    expect(await followLog(alice, owner, failed.number, failedTask.id, 0)).toBe('about to fail\n');
    // the step's exit status follows the executor's report (it may trail the run's result)
    await eventually(async () => {
      const t = await alice.getRunTask(owner, failed.number, failedTask.id);
      expect(t.steps[0]!.exit_status).toBe(3);
    });

    // a config that does not validate: a "Setup Error" run with the errors, nothing runs
    await forge.commit({
      repo: repo.path,
      files: { '.agola/config.yml': 'version: v0\nruns:\n  - name: broken\n    tasks: []\n' },
      branch: 'main',
    });
    await forge.settled();
    const broken = await waitRun(alice, owner, (r) => r.number > failed.number);
    expect(broken.name).toBe('Setup Error');
    expect(broken.phase).toBe('setuperror');
    expect(broken.setup_errors.length).toBeGreaterThan(0);
    expect(broken.tasks).toEqual({});

    // a pull request from a fork: it runs, without the variables
    await forge.commit({
      repo: repo.path,
      files: { '.agola/config.yml': PASSING },
      branch: 'main',
    });
    await forge.commit({
      repo: repo.path,
      files: { 'hello.txt': 'from a fork\n' },
      branch: 'fork',
    });
    await forge.settled();
    const pr = await forge.openPullRequest({
      repo: repo.path,
      head: 'fork',
      title: 'from a fork',
      fromFork: true,
    });
    await forge.settled();
    const prRun = await waitRun(
      alice,
      owner,
      (r) => r.annotations['pull_request_id'] === String(pr.number) && r.phase === 'finished',
    );
    expect(prRun.annotations).toMatchObject({ ref_type: 'pull_request' });
    expect(prRun.result).toBe('success');
    const prBuild = Object.values(prRun.tasks).find((t) => t.name === 'build')!;
    expect(await followLog(alice, owner, prRun.number, prBuild.id, 1)).toBe('from a fork\n');
    expect(await followLog(alice, owner, prRun.number, prBuild.id, 2)).toMatch(
      /^token=\[\] branch=\S*\n$/,
    );
  }, 180_000);
});

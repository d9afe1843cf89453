import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createRemoteSource, registerUser, sharedForge, startGateway, unique } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<RemoteError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

describe('gateway orgs and projects', () => {
  test('an org and a project: the deploy key and the webhook appear on the forge, and go with the project', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const login = unique('owner');
    const alice = await registerUser(gw, forge, rs, login);
    const repo = await forge.createRepo({ owner: login, name: 'app' });

    const orgName = unique('acme');
    const org = await alice.client.createOrg({ name: orgName, visibility: 'public' });
    expect(org.name).toBe(orgName);
    const members = await alice.client.getOrgMembers(orgName);
    expect(members.members.map((m) => [m.user.username, m.role])).toEqual([[login, 'owner']]);
    expect((await alice.client.getCurrentUserOrgs()).map((o) => o.Organization.name)).toContain(
      orgName,
    );

    const project = await alice.client.createProject({
      name: 'app',
      parent_ref: `org/${orgName}`,
      visibility: 'public',
      repo_path: repo.path,
      remote_source_name: rs,
    });
    expect(project.path).toBe(`org/${orgName}/app`);
    expect(project.parent_path).toBe(`org/${orgName}`);
    expect(project.global_visibility).toBe('public');

    const keys = forge.deployKeys(repo.path);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.title).toBe(`agola deploy key - ${project.id}`);
    expect(keys[0]!.readOnly).toBe(true);
    expect(keys[0]!.key).toMatch(/^ssh-rsa AAAA[0-9A-Za-z+/]+=*$/);
    const hooks = forge.hooks(repo.path);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.url).toBe(`http://agola.test/webhooks?agolaid=agola&projectid=${project.id}`);
    // the webhook secret is the project's, kept by the configstore
    const stored = await gw.backends.configstore.getProject(project.id);
    expect(hooks[0]!.secret).toBe(stored.webhook_secret);
    expect(stored.ssh_private_key).toContain('BEGIN RSA PRIVATE KEY');

    // the repo list of the linked account
    const repos = await alice.client.getUserRemoteRepos(rs);
    expect(repos.map((r) => r.path)).toContain(repo.path);

    // reconfig replaces them (still one key, one hook)
    await alice.client.reconfigProject(`org/${orgName}/app`);
    expect(forge.deployKeys(repo.path)).toHaveLength(1);
    expect(forge.hooks(repo.path)).toHaveLength(1);

    // same name again: 400, nothing created on the forge
    const dup = await rejection(
      alice.client.createProject({
        name: 'app',
        parent_ref: `org/${orgName}`,
        visibility: 'public',
        repo_path: repo.path,
        remote_source_name: rs,
      }),
    );
    expect(dup.status).toBe(400);
    expect(forge.hooks(repo.path)).toHaveLength(1);

    // a repository the forge does not have: 400 and no project
    const missing = await rejection(
      alice.client.createProject({
        name: 'ghost',
        parent_ref: `org/${orgName}`,
        visibility: 'public',
        repo_path: `${login}/does-not-exist`,
        remote_source_name: rs,
      }),
    );
    expect(missing.status).toBe(400);
    expect((await rejection(alice.client.getProject(`org/${orgName}/ghost`))).status).toBe(404);

    // update: visibility and name
    const updated = await alice.client.updateProject(project.id, {
      visibility: 'private',
      name: 'app2',
    });
    expect(updated.visibility).toBe('private');
    expect(updated.path).toBe(`org/${orgName}/app2`);
    // anonymous may no longer read it
    expect((await rejection(gw.anonymous.getProject(project.id))).status).toBe(403);

    await alice.client.deleteProject(project.id);
    expect(forge.deployKeys(repo.path)).toHaveLength(0);
    expect(forge.hooks(repo.path)).toHaveLength(0);
    expect((await rejection(alice.client.getProject(project.id))).status).toBe(404);
  });

  test('a project in a user project group; secrets and variables with tree and removeoverridden', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const login = unique('dev');
    const dev = await registerUser(gw, forge, rs, login);
    const repo = await forge.createRepo({ owner: login, name: 'svc' });
    const group = await dev.client.createProjectGroup({
      name: 'team',
      parent_ref: `user/${login}`,
      visibility: 'public',
    });
    expect(group.path).toBe(`user/${login}/team`);
    const project = await dev.client.createProject({
      name: 'svc',
      parent_ref: group.path,
      visibility: 'public',
      repo_path: repo.path,
      remote_source_name: rs,
    });
    expect(project.path).toBe(`user/${login}/team/svc`);
    expect((await dev.client.getProjectGroupProjects(group.id)).map((p) => p.name)).toEqual([
      'svc',
    ]);
    expect((await dev.client.getProjectGroupSubgroups(`user/${login}`)).map((g) => g.name)).toEqual(
      ['team'],
    );

    await dev.client.createSecret('projectgroup', group.path, {
      name: 'creds',
      data: { token: 'group-value' },
    });
    await dev.client.createSecret('project', project.path, {
      name: 'creds',
      data: { token: 'project-value' },
    });
    await dev.client.createVariable('projectgroup', group.path, {
      name: 'token',
      values: [{ secret_name: 'creds', secret_var: 'token' }],
    });
    const v = await dev.client.createVariable('project', project.path, {
      name: 'token',
      values: [{ secret_name: 'creds', secret_var: 'token', when: { branch: 'main' } }],
    });
    expect(v.values[0]!.matching_secret_parent_path).toBe(project.path);

    const tree = await dev.client.getSecrets('project', project.path, { tree: true });
    expect(tree.map((s) => s.parent_path)).toEqual([project.path, group.path]);
    // secret values are never answered
    expect(JSON.stringify(tree)).not.toContain('value');
    const nearest = await dev.client.getSecrets('project', project.path, {
      tree: true,
      removeOverridden: true,
    });
    expect(nearest.map((s) => s.parent_path)).toEqual([project.path]);
    const vars = await dev.client.getVariables('project', project.path, { tree: true });
    expect(vars.map((x) => x.parent_path)).toEqual([project.path, group.path]);
    // the group's variable reads the group's secret (never one defined below it)
    expect(vars[1]!.values[0]!.matching_secret_parent_path).toBe(group.path);
    const varsNearest = await dev.client.getVariables('project', project.path, {
      tree: true,
      removeOverridden: true,
    });
    expect(varsNearest).toHaveLength(1);

    await dev.client.updateSecret('project', project.path, 'creds', {
      name: 'creds2',
      data: { token: 'x' },
    });
    expect((await dev.client.getSecrets('project', project.path)).map((s) => s.name)).toEqual([
      'creds2',
    ]);
    await dev.client.deleteVariable('project', project.path, 'token');
    await dev.client.deleteSecret('project', project.path, 'creds2');
    expect(await dev.client.getSecrets('project', project.path)).toEqual([]);

    // an invalid variable: no values
    const noValues = await rejection(
      dev.client.createVariable('project', project.path, { name: 'empty', values: [] }),
    );
    expect(noValues.status).toBe(400);
    // the configstore's own validation passes through with its code
    const dupGroup = await rejection(
      dev.client.createProjectGroup({
        name: 'team',
        parent_ref: `user/${login}`,
        visibility: 'public',
      }),
    );
    expect(dupGroup.status).toBe(400);
    expect(dupGroup.remoteCode).toMatch(/^ERR_CONFIGSTORE_/);
  });
});

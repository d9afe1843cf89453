import { describe, expect, it } from 'vitest';
import { giteaSource, remoteError, startFresh } from './helpers.js';

/** An org `acme` with a group `team` holding a project `web`. */
async function seed(client: Awaited<ReturnType<typeof startFresh>>['client']) {
  const rs = await client.createRemoteSource(giteaSource('gitea'));
  const alice = await client.createUser({
    user_name: 'alice',
    create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '1' },
  });
  const laId = Object.keys(alice.linked_accounts ?? {})[0] ?? '';
  await client.createOrg({ Name: 'acme', Visibility: 'public' });
  await client.createProjectGroup({
    Name: 'team',
    Parent: { type: 'projectgroup', id: 'org/acme' },
    Visibility: 'public',
  });
  return client.createProject({
    Name: 'web',
    Parent: { type: 'projectgroup', id: 'org/acme/team' },
    Visibility: 'public',
    RemoteRepositoryConfigType: 'remotesource',
    RemoteSourceID: rs.id,
    LinkedAccountID: laId,
    RepositoryID: '1',
    RepositoryPath: 'alice/web',
  });
}

const secret = (name: string, value = 'v') => ({
  Name: name,
  Type: 'internal' as const,
  Data: { key: value },
});

describe('configstore secrets and variables', () => {
  it('creates, lists (with tree), updates and deletes secrets on groups and projects', async () => {
    const { client } = await startFresh();
    const project = await seed(client);
    const rootSecret = await client.createSecret('projectgroup', 'org/acme', secret('top'));
    expect(rootSecret).toMatchObject({
      name: 'top',
      type: 'internal',
      data: { key: 'v' },
      parent: { type: 'projectgroup' },
      ParentPath: 'org/acme',
    });
    await client.createSecret('projectgroup', 'org/acme/team', secret('mid'));
    const own = await client.createSecret('project', project.id, secret('own'));
    expect(own).toMatchObject({
      parent: { type: 'project', id: project.id },
      ParentPath: 'org/acme/team/web',
    });
    expect((await client.getSecrets('project', 'org/acme/team/web')).map((s) => s.name)).toEqual([
      'own',
    ]);
    const tree = await client.getSecrets('project', 'org/acme/team/web', { tree: true });
    expect(tree.map((s) => [s.name, s.ParentPath])).toEqual([
      ['own', 'org/acme/team/web'],
      ['mid', 'org/acme/team'],
      ['top', 'org/acme'],
    ]);
    const groupTree = await client.getSecrets('projectgroup', 'org/acme/team', { tree: true });
    expect(groupTree.map((s) => s.name)).toEqual(['mid', 'top']);

    const updated = await client.updateSecret('project', project.id, 'own', secret('own2', 'w'));
    expect(updated).toMatchObject({ id: own.id, name: 'own2', data: { key: 'w' } });
    expect((await client.getSecrets('project', project.id)).map((s) => s.name)).toEqual(['own2']);
    await client.createSecret('projectgroup', 'org/acme', secret('other'));
    const taken = await remoteError(
      client.updateSecret('projectgroup', 'org/acme', 'top', secret('other')),
    );
    expect([taken.status, taken.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    await client.deleteSecret('project', project.id, 'own2');
    expect(await client.getSecrets('project', project.id)).toEqual([]);
    const gone = await remoteError(client.deleteSecret('project', project.id, 'own2'));
    expect([gone.status, gone.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
  });

  it('validates secrets, naming the field; unknown parents are 404 on GET and 400 on writes', async () => {
    const { client } = await startFresh();
    await seed(client);
    const cases: [unknown, string][] = [
      [{ ...secret('s1'), Name: '' }, 'Name is required'],
      [
        { ...secret('s1'), Type: 'external' },
        'Type must be "internal" (external secrets are not supported)',
      ],
      [{ ...secret('s1'), Data: {} }, 'Data must not be empty'],
      [{ Name: 's1', Type: 'internal' }, 'Data is required (an object of string values)'],
      [{ ...secret('s1'), Data: { k: 1 } }, 'Data.k must be a string'],
    ];
    for (const [body, message] of cases) {
      const err = await remoteError(client.createSecret('projectgroup', 'org/acme', body as never));
      expect([err.status, err.remoteMessage]).toEqual([400, message]);
    }
    await client.createSecret('projectgroup', 'org/acme', secret('s1'));
    const dup = await remoteError(client.createSecret('projectgroup', 'org/acme', secret('s1')));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    const missingPut = await remoteError(
      client.updateSecret('projectgroup', 'org/acme', 'ghost', secret('s2')),
    );
    expect(missingPut.status).toBe(400);
    expect((await remoteError(client.getSecrets('project', 'org/acme/ghost'))).status).toBe(404);
    expect((await remoteError(client.getSecrets('projectgroup', 'ghost'))).status).toBe(404);
    expect((await remoteError(client.getVariables('project', 'ghost'))).status).toBe(404);
    const noParent = await remoteError(
      client.createSecret('project', 'org/acme/ghost', secret('sec')),
    );
    expect([noParent.status, noParent.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
  });

  it('creates, lists (with tree), updates and deletes variables', async () => {
    const { client } = await startFresh();
    const project = await seed(client);
    const values = [{ secret_name: 'top', secret_var: 'key', when: { branch: 'main' } }];
    const v1 = await client.createVariable('projectgroup', 'org/acme', {
      Name: 'v1',
      Values: values,
    });
    expect(v1).toMatchObject({ name: 'v1', values, ParentPath: 'org/acme' });
    await client.createVariable('project', 'org/acme/team/web', {
      Name: 'v2',
      Values: [{ secret_name: 's', secret_var: 'k' }],
    });
    const tree = await client.getVariables('project', project.id, { tree: true });
    expect(tree.map((v) => [v.name, v.ParentPath])).toEqual([
      ['v2', 'org/acme/team/web'],
      ['v1', 'org/acme'],
    ]);
    expect((await client.getVariables('project', project.id)).map((v) => v.name)).toEqual(['v2']);
    const updated = await client.updateVariable('project', project.id, 'v2', {
      Name: 'v3',
      Values: [{ secret_name: 's', secret_var: 'other' }],
    });
    expect(updated).toMatchObject({ name: 'v3', values: [{ secret_var: 'other' }] });
    const cases: [unknown, string][] = [
      [{ Name: 'v4' }, 'Values must be a list of at least one value'],
      [{ Name: 'v4', Values: [] }, 'Values must be a list of at least one value'],
      [{ Name: 'v4', Values: [{ secret_var: 'k' }] }, 'Values[0].secret_name is required'],
      [{ Name: 'v4', Values: [{ secret_name: 's' }] }, 'Values[0].secret_var is required'],
      [{ Name: 'v4', Values: ['x'] }, 'Values[0] must be a JSON object'],
      [{ Name: '1v', Values: values }, 'invalid variable name "1v" (Name)'],
    ];
    for (const [body, message] of cases) {
      const err = await remoteError(client.createVariable('project', project.id, body as never));
      expect([err.status, err.remoteMessage]).toEqual([400, message]);
    }
    const dup = await remoteError(
      client.createVariable('projectgroup', 'org/acme', { Name: 'v1', Values: values }),
    );
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    await client.deleteVariable('project', project.id, 'v3');
    expect(await client.getVariables('project', project.id)).toEqual([]);
    const gone = await remoteError(client.deleteVariable('project', project.id, 'v3'));
    expect(gone.status).toBe(400);
  });

  it('deleting a project, a group, an org or a user leaves no orphans (the export)', async () => {
    const { client, url } = await startFresh();
    const project = await seed(client);
    const count = async (type: string) => {
      const exported = await (await fetch(`${url}/export`)).text();
      return (exported.match(new RegExp(`"data_type":"${type}"`, 'g')) ?? []).length;
    };
    const counts = async () => ({
      projectgroup: await count('projectgroup'),
      project: await count('project'),
      secret: await count('secret'),
      variable: await count('variable'),
    });
    const value = [{ secret_name: 's', secret_var: 'k' }];
    await client.createSecret('project', project.id, secret('ps'));
    await client.createVariable('project', project.id, { Name: 'pv', Values: value });
    await client.deleteProject(project.id);
    expect(await counts()).toEqual({ projectgroup: 3, project: 0, secret: 0, variable: 0 });

    // a group subtree: team/sub with a project, secrets and variables at each level
    await client.createProjectGroup({
      Name: 'sub',
      Parent: { type: 'projectgroup', id: 'org/acme/team' },
      Visibility: 'public',
    });
    const again = await client.createProject({
      Name: 'web',
      Parent: { type: 'projectgroup', id: 'org/acme/team/sub' },
      Visibility: 'public',
      RemoteRepositoryConfigType: 'remotesource',
      RemoteSourceID: project.remote_source_id ?? '',
      LinkedAccountID: project.linked_account_id ?? '',
      RepositoryID: '1',
      RepositoryPath: 'alice/web',
    });
    for (const [kind, ref] of [
      ['projectgroup', 'org/acme/team'],
      ['projectgroup', 'org/acme/team/sub'],
      ['project', again.id],
    ] as const) {
      await client.createSecret(kind, ref, secret('sec'));
      await client.createVariable(kind, ref, { Name: 'var', Values: value });
    }
    expect(await counts()).toEqual({ projectgroup: 4, project: 1, secret: 3, variable: 3 });
    await client.deleteProjectGroup('org/acme/team');
    expect(await counts()).toEqual({ projectgroup: 2, project: 0, secret: 0, variable: 0 });

    // an org and a user with projects, secrets and variables below their root groups
    const reseed = async (parent: string) => {
      await client.createProjectGroup({
        Name: 'grp',
        Parent: { type: 'projectgroup', id: parent },
        Visibility: 'public',
      });
      const p = await client.createProject({
        Name: 'proj',
        Parent: { type: 'projectgroup', id: `${parent}/grp` },
        Visibility: 'public',
        RemoteRepositoryConfigType: 'remotesource',
        RemoteSourceID: project.remote_source_id ?? '',
        LinkedAccountID: project.linked_account_id ?? '',
        RepositoryID: '1',
        RepositoryPath: 'a/b',
      });
      await client.createSecret('project', p.id, secret('sec'));
      await client.createVariable('projectgroup', parent, { Name: 'var', Values: value });
    };
    await reseed('org/acme');
    await reseed('user/alice');
    expect(await counts()).toEqual({ projectgroup: 4, project: 2, secret: 2, variable: 2 });
    await client.deleteOrg('acme');
    expect(await counts()).toEqual({ projectgroup: 2, project: 1, secret: 1, variable: 1 });
    await client.deleteUser('alice');
    expect(await counts()).toEqual({ projectgroup: 0, project: 0, secret: 0, variable: 0 });
  });
});

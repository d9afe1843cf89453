import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import { READDB_FILE } from '../src/index.js';
import {
  eventually,
  giteaSource,
  newInstallation,
  newS3Installation,
  remoteError,
  startFresh,
  startInstance,
} from './helpers.js';

/** Creates a small data set and returns what the API answers about it. */
async function seed(client: ConfigstoreClient): Promise<void> {
  await client.createRemoteSource(giteaSource('gitea'));
  const alice = await client.createUser({
    user_name: 'alice',
    create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '7' },
  });
  await client.createUserToken('alice', 'ci');
  await client.createUser({ user_name: 'bob' });
  await client.createOrg({ Name: 'acme', Visibility: 'private', CreatorUserID: alice.id });
  await client.addOrgMember('acme', 'bob', { Role: 'member' });
  await client.createProjectGroup({
    Name: 'team',
    Parent: { type: 'projectgroup', id: 'org/acme' },
    Visibility: 'public',
  });
  await client.createProject({
    Name: 'web',
    Parent: { type: 'projectgroup', id: 'org/acme/team' },
    Visibility: 'public',
    RemoteRepositoryConfigType: 'remotesource',
    RemoteSourceID: 'gitea',
    LinkedAccountID: Object.keys(alice.linked_accounts ?? {})[0] ?? '',
    RepositoryID: '7',
    RepositoryPath: 'alice/web',
  });
  await client.createSecret('projectgroup', 'org/acme', {
    Name: 'deploy',
    Type: 'internal',
    Data: { token: 't0k' },
  });
  await client.createVariable('project', 'org/acme/team/web', {
    Name: 'token',
    Values: [{ secret_name: 'deploy', secret_var: 'token', when: { branch: 'main' } }],
  });
}

async function snapshot(client: ConfigstoreClient) {
  return {
    users: await client.getUsers({ asc: true }),
    orgs: await client.getOrgs({ asc: true }),
    remoteSources: await client.getRemoteSources({ asc: true }),
    members: await client.getOrgMembers('acme'),
    aliceOrgs: await client.getUserOrgs('alice'),
    rootGroup: await client.getProjectGroup('org/acme'),
    subgroups: await client.getProjectGroupSubgroups('org/acme'),
    projects: await client.getProjectGroupProjects('org/acme/team'),
    project: await client.getProject('org/acme/team/web'),
    secrets: await client.getSecrets('project', 'org/acme/team/web', { tree: true }),
    variables: await client.getVariables('project', 'org/acme/team/web', { tree: true }),
  };
}

describe('configstore instances', () => {
  it('a write on one instance is visible on another', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    const user = await a.client.createUser({ user_name: 'shared' });
    expect(await eventually(() => b.client.getUser('shared'))).toEqual(user);
    await b.client.createOrg({ Name: 'org-b', Visibility: 'public', CreatorUserID: 'shared' });
    const orgs = await eventually(async () => {
      const list = await a.client.getUserOrgs('shared');
      if (list.length === 0) throw new Error('not yet');
      return list;
    });
    expect(orgs.map((o) => [o.Organization.name, o.Role])).toEqual([['org-b', 'owner']]);
  });

  it('racing creates of one project or group path on two instances give one 201 and one 400', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    await a.client.createRemoteSource(giteaSource('gitea'));
    const alice = await a.client.createUser({
      user_name: 'alice',
      create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '7' },
    });
    const laId = Object.keys(alice.linked_accounts ?? {})[0] ?? '';
    await eventually(() => b.client.getProjectGroup('user/alice'));
    const outcomes = (results: PromiseSettledResult<unknown>[]) =>
      results
        .map((r) => (r.status === 'fulfilled' ? 201 : (r.reason as RemoteError).status))
        .sort();
    for (let round = 0; round < 3; round++) {
      const group = {
        Name: `grp${round}`,
        Parent: { type: 'projectgroup' as const, id: 'user/alice' },
        Visibility: 'public' as const,
      };
      expect(
        outcomes(
          await Promise.allSettled([
            a.client.createProjectGroup(group),
            b.client.createProjectGroup(group),
          ]),
        ),
      ).toEqual([201, 400]);
      const project = {
        Name: `proj${round}`,
        Parent: { type: 'projectgroup' as const, id: 'user/alice' },
        Visibility: 'public' as const,
        RemoteRepositoryConfigType: 'remotesource' as const,
        RemoteSourceID: 'gitea',
        LinkedAccountID: laId,
        RepositoryID: '1',
        RepositoryPath: 'alice/repo',
      };
      expect(
        outcomes(
          await Promise.allSettled([
            a.client.createProject(project),
            b.client.createProject(project),
          ]),
        ),
      ).toEqual([201, 400]);
    }
    const projects = await eventually(async () => {
      const list = await b.client.getProjectGroupProjects('user/alice');
      if (list.length < 3) throw new Error('not yet');
      return list;
    });
    expect(projects.map((p) => p.name)).toEqual(['proj0', 'proj1', 'proj2']);
  });

  it('racing creates of one name on two instances give one 201 and one 400', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    for (let round = 0; round < 5; round++) {
      const name = `race${round}`;
      const results = await Promise.allSettled([
        a.client.createUser({ user_name: name }),
        b.client.createUser({ user_name: name }),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(RemoteError);
      const err = failed[0] as RemoteError;
      expect(err.status).toBe(400);
      expect(['ERR_CONFIGSTORE_ALREADY_EXISTS', 'ERR_CONFIGSTORE_CONCURRENT_UPDATE']).toContain(
        err.remoteCode,
      );
    }
    const users = await eventually(async () => {
      const list = await b.client.getUsers({ asc: true });
      if (list.length < 5) throw new Error('not yet');
      return list;
    });
    expect(users.map((u) => u.name)).toEqual(['race0', 'race1', 'race2', 'race3', 'race4']);
  });

  it('maintenance mode serves only maintenance, export and import; an export imports into a fresh installation', async () => {
    const src = await startFresh();
    await seed(src.client);
    const before = await snapshot(src.client);

    const put = await fetch(`${src.url}/maintenance`, { method: 'PUT' });
    expect(put.status).toBe(200);
    const noRoute = await eventually(async () => {
      const err = await remoteError(src.client.getUsers());
      if (err.status !== 404) throw new Error('still in normal mode');
      return err;
    });
    expect(noRoute.remoteCode).toBe('ERR_SERVICE_NO_ROUTE');
    expect((await remoteError(src.client.createUser({ user_name: 'x1' }))).status).toBe(404);
    const exported = await (await fetch(`${src.url}/export`)).text();
    expect(exported).toContain('"data_type":"user"');
    const off = await fetch(`${src.url}/maintenance`, { method: 'DELETE' });
    expect(off.status).toBe(200);
    await eventually(() => src.client.getUsers());

    // the root project groups of alice, bob and acme and acme's team are part of the data
    expect(exported.match(/"data_type":"projectgroup"/g)).toHaveLength(4);
    for (const type of ['project', 'secret', 'variable']) {
      expect(exported.match(new RegExp(`"data_type":"${type}"`, 'g'))).toHaveLength(1);
    }
    expect(before.secrets.map((x) => x.ParentPath)).toEqual(['org/acme']);

    const dst = await startFresh();
    const importNormal = await fetch(`${dst.url}/import`, { method: 'POST', body: exported });
    expect(importNormal.status).toBe(400);
    expect((await fetch(`${dst.url}/maintenance`, { method: 'PUT' })).status).toBe(200);
    const imported = await eventually(async () => {
      const res = await fetch(`${dst.url}/import`, { method: 'POST', body: exported });
      if ([400, 404, 503].includes(res.status)) throw new Error('not in maintenance yet');
      return res;
    });
    expect(imported.status).toBe(204);
    expect((await fetch(`${dst.url}/maintenance`, { method: 'DELETE' })).status).toBe(200);
    const after = await eventually(async () => {
      const s = await snapshot(dst.client);
      if (s.users.length === 0) throw new Error('not yet');
      return s;
    });
    expect(after).toEqual(before);
    const token = before.users.find((u) => u.name === 'alice')?.tokens?.['ci'] ?? '';
    expect((await dst.client.getUserByQuery({ query_type: 'bytoken', token })).name).toBe('alice');
  });

  it('rebuilds a deleted readdb at restart', async () => {
    const inst = await newInstallation();
    const first = await startInstance(inst);
    await seed(first.client);
    const before = await snapshot(first.client);
    await first.cs.stop();
    for (const suffix of ['', '-wal', '-shm']) {
      await rm(join(first.dataDir, READDB_FILE + suffix), { force: true });
    }
    const second = await startInstance(inst, first.dataDir);
    expect(await snapshot(second.client)).toEqual(before);
    await rm(first.dataDir, { recursive: true, force: true });
  });

  it('runs two instances on S3 object storage, and rebuilds a readdb from it', async () => {
    const inst = await newS3Installation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    await seed(a.client);
    const before = await snapshot(a.client);
    expect(
      await eventually(async () => {
        const s = await snapshot(b.client);
        if (s.members.length < 2) throw new Error('not yet');
        return s;
      }),
    ).toEqual(before);
    await b.cs.stop();
    await rm(join(b.dataDir, READDB_FILE), { force: true });
    const c = await startInstance(inst, b.dataDir);
    expect(await snapshot(c.client)).toEqual(before);
    expect(await (await fetch(`${c.url}/export`)).text()).toContain('"data_type":"orgmember"');
  });
});

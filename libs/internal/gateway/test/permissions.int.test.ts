import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import type { GatewayClient } from '@agola-ts/gateway-client';
import { startGateway, unique } from './helpers.js';

type Role = 'admin' | 'owner' | 'member' | 'other' | 'anonymous';
const ROLES: readonly Role[] = ['admin', 'owner', 'member', 'other', 'anonymous'];
type Outcome = 'ok' | number;

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof RemoteError) return err.status;
    throw err;
  }
}

describe('gateway permissions', () => {
  test('matrix: admin, org owner, org member, other user, anonymous', async () => {
    const gw = await startGateway();
    const cs = gw.backends.configstore;
    const mkUser = async (prefix: string) => {
      const user = await cs.createUser({ user_name: unique(prefix) });
      const { token } = await cs.createUserToken(user.id, 'api');
      return { user, client: gw.client({ token }) };
    };
    const rs = await cs.createRemoteSource({
      Name: unique('rs'),
      APIURL: 'http://127.0.0.1:1',
      Type: 'gitea',
      AuthType: 'password',
    });
    const ownerUser = await cs.createUser({
      user_name: unique('owner'),
      create_user_la_request: { remote_source_name: rs.name, remote_user_id: '1' },
    });
    const owner = {
      user: ownerUser,
      client: gw.client({ token: (await cs.createUserToken(ownerUser.id, 'api')).token }),
    };
    const la = Object.keys(ownerUser.linked_accounts ?? {})[0]!;
    const repoFields = {
      RemoteRepositoryConfigType: 'remotesource',
      RemoteSourceID: rs.id,
      LinkedAccountID: la,
      RepositoryID: '1',
      RepositoryPath: 'owner/app',
    } as const;
    const member = await mkUser('member');
    const other = await mkUser('other');
    const target = await mkUser('target');
    const clients: Record<Role, GatewayClient> = {
      admin: gw.admin,
      owner: owner.client,
      member: member.client,
      other: other.client,
      anonymous: gw.anonymous,
    };

    const orgName = unique('acme');
    await owner.client.createOrg({ name: orgName, visibility: 'public' });
    await owner.client.addOrgMember(orgName, member.user.name, 'member');
    const priv = await owner.client.createProjectGroup({
      name: 'priv',
      parent_ref: `org/${orgName}`,
      visibility: 'private',
    });
    const privProject = await cs.createProject({
      Name: 'secretapp',
      Parent: { type: 'projectgroup', id: priv.id },
      Visibility: 'public',
      ...repoFields,
    });
    const pubProject = await cs.createProject({
      Name: 'pubapp',
      Parent: { type: 'projectgroup', id: `org/${orgName}` },
      Visibility: 'public',
      ...repoFields,
    });
    expect(privProject.GlobalVisibility).toBe('private');
    await owner.client.createSecret('projectgroup', priv.path, { name: 'key', data: { k: 'v' } });

    const rules: [string, (c: GatewayClient) => Promise<unknown>, Record<Role, Outcome>][] = [
      [
        'GET /users',
        (c) => c.getUsers(),
        { admin: 'ok', owner: 403, member: 403, other: 403, anonymous: 401 },
      ],
      [
        'POST /users',
        (c) => c.createUser(unique('made')),
        { admin: 'ok', owner: 403, member: 403, other: 403, anonymous: 401 },
      ],
      [
        'POST /remotesources',
        (c) =>
          c.createRemoteSource({
            name: unique('rs'),
            apiurl: 'http://127.0.0.1:1',
            type: 'gitea',
            auth_type: 'password',
          }),
        { admin: 'ok', owner: 403, member: 403, other: 403, anonymous: 401 },
      ],
      [
        'GET /remotesources',
        (c) => c.getRemoteSources(),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 'ok', anonymous: 'ok' },
      ],
      [
        'GET /user',
        (c) => c.getCurrentUser(),
        { admin: 401, owner: 'ok', member: 'ok', other: 'ok', anonymous: 401 },
      ],
      [
        'GET /orgs/{ref}',
        (c) => c.getOrg(orgName),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 'ok', anonymous: 401 },
      ],
      [
        'PUT /orgs/{ref}/members/{user}',
        (c) => c.addOrgMember(orgName, target.user.name, 'member'),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'DELETE /orgs/{ref}',
        async (c) => {
          const name = unique('doomed');
          await owner.client.createOrg({ name, visibility: 'public' });
          await owner.client.addOrgMember(name, member.user.name, 'member');
          return c.deleteOrg(name);
        },
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'GET private /projectgroups/{ref}',
        (c) => c.getProjectGroup(priv.path),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 403, anonymous: 401 },
      ],
      [
        'GET private /projects/{ref}',
        (c) => c.getProject(privProject.id),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 403, anonymous: 403 },
      ],
      [
        'GET public /projects/{ref}',
        (c) => c.getProject(`org/${orgName}/pubapp`),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 'ok', anonymous: 'ok' },
      ],
      [
        'POST /projectgroups',
        (c) =>
          c.createProjectGroup({
            name: unique('g'),
            parent_ref: `org/${orgName}`,
            visibility: 'public',
          }),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'DELETE /projectgroups/{ref}',
        async (c) => {
          const g = await owner.client.createProjectGroup({
            name: unique('g'),
            parent_ref: `org/${orgName}`,
            visibility: 'public',
          });
          return c.deleteProjectGroup(g.id);
        },
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'PUT /projects/{ref}',
        (c) => c.updateProject(pubProject.id, { visibility: 'public' }),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'GET private .../secrets',
        (c) => c.getSecrets('projectgroup', priv.path),
        { admin: 'ok', owner: 'ok', member: 'ok', other: 403, anonymous: 401 },
      ],
      [
        'POST .../secrets',
        (c) => c.createSecret('project', pubProject.id, { name: unique('s'), data: { a: 'b' } }),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'POST .../variables',
        (c) =>
          c.createVariable('projectgroup', `org/${orgName}`, {
            name: unique('v'),
            values: [{ secret_name: 'key', secret_var: 'k' }],
          }),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'POST /users/{ref}/tokens',
        (c) => c.createUserToken(owner.user.name, unique('t')),
        { admin: 'ok', owner: 'ok', member: 403, other: 403, anonymous: 401 },
      ],
      [
        'DELETE /users/{ref}',
        async (c) => {
          const u = await cs.createUser({ user_name: unique('del') });
          return c.deleteUser(u.id);
        },
        { admin: 'ok', owner: 403, member: 403, other: 403, anonymous: 401 },
      ],
    ];

    const actual: Record<string, Record<Role, Outcome>> = {};
    const expected: Record<string, Record<Role, Outcome>> = {};
    for (const [name, call, want] of rules) {
      expected[name] = want;
      const got = {} as Record<Role, Outcome>;
      for (const role of ROLES) got[role] = await outcome(call(clients[role]));
      actual[name] = got;
    }
    expect(actual).toEqual(expected);

    // a private subgroup is left out of the list for a non-member, shown to a member
    const listed = (c: GatewayClient) =>
      c.getProjectGroupSubgroups(`org/${orgName}`).then((l) => l.map((g) => g.name));
    expect(await listed(member.client)).toContain('priv');
    expect(await listed(other.client)).not.toContain('priv');
    // a member may not move a group of the org into its own namespace
    expect(
      await outcome(
        member.client.updateProjectGroup(priv.id, { parent_ref: `user/${member.user.name}` }),
      ),
    ).toBe(403);
    // an owner may not move a group into a namespace it does not own
    expect(
      await outcome(
        owner.client.updateProjectGroup(priv.id, { parent_ref: `user/${other.user.name}` }),
      ),
    ).toBe(403);
  });
});

import { describe, expect, it } from 'vitest';
import { remoteError, startFresh } from './helpers.js';

describe('configstore orgs and members', () => {
  it('creates an org with its creator as owner, gets, lists and deletes it', async () => {
    const { client } = await startFresh();
    const alice = await client.createUser({ user_name: 'alice' });
    const org = await client.createOrg({
      Name: 'acme',
      Visibility: 'private',
      CreatorUserID: alice.id,
    });
    expect(org).toMatchObject({ name: 'acme', visibility: 'private', creator_user_id: alice.id });
    expect(Date.parse(org.created_at ?? '')).not.toBeNaN();
    expect(await client.getOrg('acme')).toEqual(org);
    expect(await client.getOrg(org.id)).toEqual(org);
    expect(await client.getOrgMembers('acme')).toEqual([{ User: alice, Role: 'owner' }]);
    expect(await client.getUserOrgs('alice')).toEqual([{ Organization: org, Role: 'owner' }]);

    const dup = await remoteError(client.createOrg({ Name: 'acme', Visibility: 'public' }));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);

    await client.deleteOrg('acme');
    expect((await remoteError(client.getOrg(org.id))).status).toBe(404);
    expect(await client.getUserOrgs('alice')).toEqual([]);
    const again = await remoteError(client.deleteOrg('acme'));
    expect([again.status, again.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
    expect((await remoteError(client.getOrgMembers('acme'))).status).toBe(404);
    expect((await remoteError(client.getUserOrgs('nobody'))).status).toBe(404);
  });

  it('validates org requests, naming the field', async () => {
    const { client } = await startFresh();
    const badName = await remoteError(client.createOrg({ Name: '-x', Visibility: 'public' }));
    expect([badName.status, badName.remoteMessage]).toEqual([400, 'invalid org name "-x" (Name)']);
    const noVis = await remoteError(client.createOrg({ Name: 'acme' } as never));
    expect(noVis.remoteMessage).toContain('Visibility');
    const noCreator = await remoteError(
      client.createOrg({ Name: 'acme', Visibility: 'public', CreatorUserID: 'ghost' }),
    );
    expect([noCreator.status, noCreator.remoteCode]).toEqual([
      400,
      'ERR_CONFIGSTORE_MISSING_ENTITY',
    ]);
    expect(noCreator.remoteMessage).toContain('CreatorUserID');
  });

  it('adds members, changes roles and removes them', async () => {
    const { client } = await startFresh();
    const bob = await client.createUser({ user_name: 'bob' });
    await client.createOrg({ Name: 'acme', Visibility: 'public' });
    expect(await client.getOrgMembers('acme')).toEqual([]);
    const m = await client.addOrgMember('acme', 'bob', { Role: 'member' });
    expect(m).toMatchObject({ user_id: bob.id, member_role: 'member' });
    expect(await client.addOrgMember('acme', bob.id, { Role: 'member' })).toEqual(m);
    const owner = await client.addOrgMember('acme', 'bob', { Role: 'owner' });
    expect(owner).toEqual({ ...m, member_role: 'owner' });
    expect(await client.getOrgMembers('acme')).toEqual([{ User: bob, Role: 'owner' }]);

    const badRole = await remoteError(
      client.addOrgMember('acme', 'bob', { Role: 'boss' as never }),
    );
    expect([badRole.status, badRole.remoteMessage]).toEqual([
      400,
      'Role must be "owner" or "member"',
    ]);
    expect((await remoteError(client.addOrgMember('nope', 'bob', { Role: 'member' }))).status).toBe(
      400,
    );
    expect(
      (await remoteError(client.addOrgMember('acme', 'nope', { Role: 'member' }))).status,
    ).toBe(400);
    await client.removeOrgMember('acme', 'bob');
    expect(await client.getOrgMembers('acme')).toEqual([]);
    const gone = await remoteError(client.removeOrgMember('acme', 'bob'));
    expect([gone.status, gone.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
  });

  it('deleting a user removes its memberships', async () => {
    const { client } = await startFresh();
    await client.createUser({ user_name: 'carol' });
    await client.createOrg({ Name: 'acme', Visibility: 'public', CreatorUserID: 'carol' });
    await client.deleteUser('carol');
    expect(await client.getOrgMembers('acme')).toEqual([]);
  });

  it('pages orgs by name', async () => {
    const { client } = await startFresh();
    for (const n of ['org-a', 'org-b', 'org-c']) {
      await client.createOrg({ Name: n, Visibility: 'public' });
    }
    expect((await client.getOrgs()).map((o) => o.name)).toEqual(['org-c', 'org-b', 'org-a']);
    expect(
      (await client.getOrgs({ asc: true, start: 'org-a', limit: 1 })).map((o) => o.name),
    ).toEqual(['org-b']);
  });

  it('deleting an org or user deletes its project groups and memberships (no orphans)', async () => {
    const { client, url } = await startFresh();
    const count = async (type: string) => {
      const exported = await (await fetch(`${url}/export`)).text();
      return (exported.match(new RegExp(`"data_type":"${type}"`, 'g')) ?? []).length;
    };
    await client.createUser({ user_name: 'dave' });
    await client.createUser({ user_name: 'erin' });
    await client.createOrg({ Name: 'acme', Visibility: 'public', CreatorUserID: 'dave' });
    await client.addOrgMember('acme', 'erin', { Role: 'member' });
    expect([await count('projectgroup'), await count('orgmember')]).toEqual([3, 2]);
    await client.deleteOrg('acme');
    expect([await count('projectgroup'), await count('orgmember')]).toEqual([2, 0]);
    await client.deleteUser('dave');
    expect([await count('user'), await count('projectgroup')]).toEqual([1, 1]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import type { CreateUpdateProjectRequest } from '@agola-ts/types';
import { giteaSource, remoteError, startFresh } from './helpers.js';

/** A remote source `gitea`, a user `alice` linked to it, and an org `acme` (given visibility). */
async function seedOwners(client: ConfigstoreClient, orgVisibility: 'public' | 'private') {
  const rs = await client.createRemoteSource(giteaSource('gitea'));
  const alice = await client.createUser({
    user_name: 'alice',
    create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '1' },
  });
  const laId = Object.keys(alice.linked_accounts ?? {})[0] ?? '';
  const org = await client.createOrg({ Name: 'acme', Visibility: orgVisibility });
  return { rs, alice, laId, org };
}

const projectReq = (
  name: string,
  parent: string,
  rsId: string,
  laId: string,
): CreateUpdateProjectRequest => ({
  Name: name,
  Parent: { type: 'projectgroup', id: parent },
  Visibility: 'public',
  RemoteRepositoryConfigType: 'remotesource',
  RemoteSourceID: rsId,
  LinkedAccountID: laId,
  RepositoryID: '42',
  RepositoryPath: 'alice/repo',
});

describe('configstore project groups', () => {
  it('gets root groups by path and id with computed paths, owners and global visibility', async () => {
    const { client } = await startFresh();
    const { alice, org } = await seedOwners(client, 'private');
    const root = await client.getProjectGroup('org/acme');
    // as Agola: a root group has no name key and its parent path is its owner's
    expect(root).toEqual({
      id: root.id,
      parent: { type: 'org', id: org.id },
      visibility: 'private',
      OwnerType: 'org',
      OwnerID: org.id,
      Path: 'org/acme',
      ParentPath: 'org/acme',
      GlobalVisibility: 'private',
    });
    expect(await client.getProjectGroup(root.id)).toEqual(root);
    const userRoot = await client.getProjectGroup('user/alice');
    expect(userRoot).toMatchObject({
      OwnerType: 'user',
      OwnerID: alice.id,
      Path: 'user/alice',
      ParentPath: 'user/alice',
    });
    expect(userRoot.GlobalVisibility).toBe('public');
    for (const ref of ['org/nope', 'org/acme/nope', 'nope', 'team/acme', 'org//x']) {
      expect((await remoteError(client.getProjectGroup(ref))).status).toBe(404);
    }
  });

  it('creates nested groups (private org -> private children), lists, renames, moves and deletes them', async () => {
    const { client, url } = await startFresh();
    await seedOwners(client, 'private');
    await client.createOrg({ Name: 'open', Visibility: 'public' });
    const g1 = await client.createProjectGroup({
      Name: 'g1',
      Parent: { type: 'projectgroup', id: 'org/acme' },
      Visibility: 'public',
    });
    expect(g1).toMatchObject({
      name: 'g1',
      Path: 'org/acme/g1',
      ParentPath: 'org/acme',
      GlobalVisibility: 'private',
    });
    const g2 = await client.createProjectGroup({
      Name: 'g2',
      Parent: { type: 'projectgroup', id: g1.id },
      Visibility: 'public',
    });
    expect(g2.Path).toBe('org/acme/g1/g2');
    // by path, URL-encoded in one segment, on the raw route
    const res = await fetch(`${url}/projectgroups/org%2Facme%2Fg1%2Fg2`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(g2);
    expect(await client.getProjectGroup(g2.id)).toEqual(g2);
    expect((await client.getProjectGroupSubgroups('org/acme')).map((g) => g.Path)).toEqual([
      'org/acme/g1',
    ]);
    expect(await client.getProjectGroupProjects('org/acme/g1')).toEqual([]);

    const pub = await client.createProjectGroup({
      Name: 'pub',
      Parent: { type: 'projectgroup', id: 'org/open' },
      Visibility: 'public',
    });
    expect(pub.GlobalVisibility).toBe('public');
    const priv = await client.createProjectGroup({
      Name: 'priv',
      Parent: { type: 'projectgroup', id: 'org/open/pub' },
      Visibility: 'private',
    });
    const under = await client.createProjectGroup({
      Name: 'under',
      Parent: { type: 'projectgroup', id: priv.id },
      Visibility: 'public',
    });
    expect([priv.GlobalVisibility, under.GlobalVisibility]).toEqual(['private', 'private']);

    // rename and move
    const renamed = await client.updateProjectGroup('org/acme/g1/g2', {
      Name: 'g3',
      Parent: { type: 'projectgroup', id: 'org/acme' },
      Visibility: 'public',
    });
    expect(renamed).toMatchObject({ id: g2.id, Path: 'org/acme/g3', ParentPath: 'org/acme' });
    expect((await remoteError(client.getProjectGroup('org/acme/g1/g2'))).status).toBe(404);
    const moved = await client.updateProjectGroup(g1.id, {
      Name: 'g1',
      Parent: { type: 'projectgroup', id: 'org/acme/g3' },
      Visibility: 'public',
    });
    expect(moved.Path).toBe('org/acme/g3/g1');
    // into its own subtree, or itself: refused
    const intoChild = await remoteError(
      client.updateProjectGroup('org/acme/g3', {
        Name: 'g3',
        Parent: { type: 'projectgroup', id: 'org/acme/g3/g1' },
        Visibility: 'public',
      }),
    );
    expect([intoChild.status, intoChild.remoteCode]).toEqual([
      400,
      'ERR_CONFIGSTORE_INVALID_REQUEST',
    ]);
    expect(intoChild.remoteMessage).toContain('Parent.id');
    const intoSelf = await remoteError(
      client.updateProjectGroup(g1.id, {
        Name: 'g1',
        Parent: { type: 'projectgroup', id: g1.id },
        Visibility: 'public',
      }),
    );
    expect(intoSelf.status).toBe(400);
    // a root group: only the visibility changes; never moved nor deleted
    const root = await client.getProjectGroup('org/open');
    const rootPriv = await client.updateProjectGroup('org/open', {
      Name: '',
      Parent: { type: 'org', id: root.parent.id },
      Visibility: 'private',
    });
    expect(rootPriv).toMatchObject({ id: root.id, visibility: 'private', Path: 'org/open' });
    expect((await client.getProjectGroup('org/open/pub')).GlobalVisibility).toBe('private');
    const moveRoot = await remoteError(
      client.updateProjectGroup('org/open', {
        Name: '',
        Parent: { type: 'org', id: g1.OwnerID },
        Visibility: 'public',
      }),
    );
    expect(moveRoot.remoteMessage).toContain('root project group cannot be moved');
    const delRoot = await remoteError(client.deleteProjectGroup('org/open'));
    expect([delRoot.status, delRoot.remoteMessage]).toEqual([
      400,
      'a root project group cannot be deleted',
    ]);

    await client.deleteProjectGroup('org/acme/g3');
    expect((await remoteError(client.getProjectGroup(g1.id))).status).toBe(404);
    const again = await remoteError(client.deleteProjectGroup('org/acme/g3'));
    expect([again.status, again.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
  });

  it('validates project group requests, naming the field', async () => {
    const { client } = await startFresh();
    await seedOwners(client, 'public');
    const base = { Name: 'g1', Parent: { type: 'projectgroup' as const, id: 'org/acme' } };
    const cases: [unknown, string][] = [
      [{ ...base, Name: '-x', Visibility: 'public' }, 'invalid project group name "-x" (Name)'],
      [{ ...base, Visibility: 'internal' }, 'Visibility must be "public" or "private"'],
      [{ Name: 'g1', Visibility: 'public' }, 'Parent is required (an object with type and id)'],
      [
        { ...base, Parent: { type: 'projectgroup' }, Visibility: 'public' },
        'Parent.id is required',
      ],
    ];
    for (const [body, message] of cases) {
      const err = await remoteError(client.createProjectGroup(body as never));
      expect([err.status, err.remoteMessage]).toEqual([400, message]);
    }
    const orgParent = await remoteError(
      client.createProjectGroup({
        ...base,
        Parent: { type: 'org', id: 'acme' },
        Visibility: 'public',
      }),
    );
    expect(orgParent.remoteMessage).toContain('Parent.type');
    const noParent = await remoteError(
      client.createProjectGroup({
        ...base,
        Parent: { type: 'projectgroup', id: 'org/ghost' },
        Visibility: 'public',
      }),
    );
    expect([noParent.status, noParent.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
    expect(noParent.remoteMessage).toContain('Parent');
    await client.createProjectGroup({ ...base, Visibility: 'public' });
    const dup = await remoteError(client.createProjectGroup({ ...base, Visibility: 'public' }));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    const missingPut = await remoteError(
      client.updateProjectGroup('org/acme/ghost', { ...base, Visibility: 'public' }),
    );
    expect(missingPut.status).toBe(400);
    for (const ref of ['org/acme/ghost', 'ghost']) {
      expect((await remoteError(client.getProjectGroupSubgroups(ref))).status).toBe(404);
      expect((await remoteError(client.getProjectGroupProjects(ref))).status).toBe(404);
    }
  });
});

describe('configstore projects', () => {
  it('creates, gets by id and path, updates (secrets kept), moves and deletes a project', async () => {
    const { client, url } = await startFresh();
    const { rs, laId, alice } = await seedOwners(client, 'public');
    const g = await client.createProjectGroup({
      Name: 'team',
      Parent: { type: 'projectgroup', id: 'org/acme' },
      Visibility: 'private',
    });
    const p = await client.createProject({
      ...projectReq('web', 'org/acme/team', 'gitea', laId),
      SkipSSHHostKeyCheck: true,
    });
    expect(p).toMatchObject({
      name: 'web',
      parent: { type: 'projectgroup', id: g.id },
      visibility: 'public',
      remote_repository_config_type: 'remotesource',
      remote_source_id: rs.id,
      linked_account_id: laId,
      repository_id: '42',
      repository_path: 'alice/repo',
      skip_ssh_host_key_check: true,
      OwnerType: 'org',
      OwnerID: g.OwnerID,
      Path: 'org/acme/team/web',
      ParentPath: 'org/acme/team',
      GlobalVisibility: 'private',
    });
    expect(p.secret).toMatch(/^[0-9a-f]{40}$/);
    expect(p.webhook_secret).toMatch(/^[0-9a-f]{40}$/);
    expect(await client.getProject(p.id)).toEqual(p);
    expect(await client.getProject('org/acme/team/web')).toEqual(p);
    const res = await fetch(`${url}/projects/org%2Facme%2Fteam%2Fweb`);
    expect([res.status, await res.json()]).toEqual([200, p]);
    expect(await client.getProjectGroupProjects('org/acme/team')).toEqual([p]);

    const userProject = await client.createProject(projectReq('mine', 'user/alice', rs.id, laId));
    expect(userProject).toMatchObject({
      OwnerType: 'user',
      OwnerID: alice.id,
      Path: 'user/alice/mine',
      GlobalVisibility: 'public',
    });

    const updated = await client.updateProject('org/acme/team/web', {
      ...projectReq('site', 'org/acme', rs.id, laId),
      RepositoryPath: 'alice/site',
    });
    expect(updated).toMatchObject({
      id: p.id,
      secret: p.secret,
      webhook_secret: p.webhook_secret,
      repository_path: 'alice/site',
      Path: 'org/acme/site',
      GlobalVisibility: 'public',
    });
    expect(updated.skip_ssh_host_key_check).toBeUndefined();
    expect((await remoteError(client.getProject('org/acme/team/web'))).status).toBe(404);
    const dup = await remoteError(
      client.updateProject(userProject.id, projectReq('site', 'org/acme', rs.id, laId)),
    );
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);

    await client.deleteProject('org/acme/site');
    expect((await remoteError(client.getProject(p.id))).status).toBe(404);
    const again = await remoteError(client.deleteProject(p.id));
    expect([again.status, again.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
  });

  it('validates project requests, naming the field', async () => {
    const { client } = await startFresh();
    const { rs, laId } = await seedOwners(client, 'public');
    const other = await client.createRemoteSource(giteaSource('other'));
    const good = projectReq('web', 'org/acme', rs.id, laId);
    const cases: [Record<string, unknown>, string][] = [
      [{ Name: 'x' }, 'invalid project name "x" (Name)'],
      [{ Parent: { type: 'org', id: 'acme' } }, 'Parent.type must be "projectgroup"'],
      [{ Visibility: 'secret' }, 'Visibility must be "public" or "private"'],
      [
        { RemoteRepositoryConfigType: 'manual' },
        'RemoteRepositoryConfigType "manual" is not supported (only "remotesource")',
      ],
      [{ RemoteSourceID: undefined }, 'RemoteSourceID is required'],
      [{ LinkedAccountID: '' }, 'LinkedAccountID is required'],
      [{ RepositoryID: undefined }, 'RepositoryID is required'],
      [{ RepositoryPath: 3 }, 'RepositoryPath must be a string'],
      [{ SkipSSHHostKeyCheck: 'yes' }, 'SkipSSHHostKeyCheck must be a boolean'],
    ];
    for (const [patch, message] of cases) {
      const err = await remoteError(client.createProject({ ...good, ...patch } as never));
      expect([err.status, err.remoteCode, err.remoteMessage]).toEqual([
        400,
        'ERR_CONFIGSTORE_INVALID_REQUEST',
        message,
      ]);
    }
    const missingCases: [Record<string, unknown>, string][] = [
      [{ Parent: { type: 'projectgroup', id: 'org/acme/ghost' } }, 'Parent'],
      [{ RemoteSourceID: 'ghost' }, 'RemoteSourceID'],
      [{ LinkedAccountID: 'ghost' }, 'LinkedAccountID'],
    ];
    for (const [patch, field] of missingCases) {
      const err = await remoteError(client.createProject({ ...good, ...patch } as never));
      expect([err.status, err.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
      expect(err.remoteMessage).toContain(field);
    }
    const wrongSource = await remoteError(
      client.createProject({ ...good, RemoteSourceID: other.id }),
    );
    expect(wrongSource.remoteMessage).toContain("doesn't belong to remote source other");
    await client.createProject(good);
    const dup = await remoteError(client.createProject(good));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    const missingPut = await remoteError(client.updateProject('org/acme/ghost', good));
    expect([missingPut.status, missingPut.remoteCode]).toEqual([
      400,
      'ERR_CONFIGSTORE_MISSING_ENTITY',
    ]);
    for (const ref of ['org/acme/ghost', 'ghost', 'org/acme', 'org/acme/x/web']) {
      expect((await remoteError(client.getProject(ref))).status).toBe(404);
    }
  });

  it('gets projects by path at every depth, under orgs and users', async () => {
    const { client } = await startFresh();
    const { laId } = await seedOwners(client, 'public');
    // org/acme/ga/gb/gc with a project at each level; a same-named group under user/alice
    let parent = 'org/acme';
    const projects = [await client.createProject(projectReq('pr', parent, 'gitea', laId))];
    for (const name of ['ga', 'gb', 'gc']) {
      await client.createProjectGroup({
        Name: name,
        Parent: { type: 'projectgroup', id: parent },
        Visibility: 'public',
      });
      parent = `${parent}/${name}`;
      projects.push(await client.createProject(projectReq('pr', parent, 'gitea', laId)));
    }
    await client.createProjectGroup({
      Name: 'ga',
      Parent: { type: 'projectgroup', id: 'user/alice' },
      Visibility: 'public',
    });
    const mine = await client.createProject(projectReq('pr', 'user/alice/ga', 'gitea', laId));
    const paths = ['org/acme/pr', 'org/acme/ga/pr', 'org/acme/ga/gb/pr', 'org/acme/ga/gb/gc/pr'];
    for (const [i, path] of paths.entries()) {
      const got = await client.getProject(path);
      expect(got).toEqual(projects[i]);
      expect(got.Path).toBe(path);
    }
    expect((await client.getProject('user/alice/ga/pr')).id).toBe(mine.id);
    // a missing or extra level, another owner, a group where the project should be
    for (const ref of [
      'org/acme/gb/pr',
      'org/acme/ga/gb/gc/gd/pr',
      'org/acme/ga/gx/pr',
      'user/acme/ga/pr',
      'org/alice/ga/pr',
      'org/acme/ga/gb',
      'user/alice/pr',
    ]) {
      expect((await remoteError(client.getProject(ref))).status).toBe(404);
    }
  });

  it('concurrent GETs by id (batched into shared queries) each get their own project or a 404', async () => {
    const { client } = await startFresh();
    const { laId } = await seedOwners(client, 'private');
    await client.createProjectGroup({
      Name: 'team',
      Parent: { type: 'projectgroup', id: 'user/alice' },
      Visibility: 'public',
    });
    const projects = [
      await client.createProject(projectReq('one', 'org/acme', 'gitea', laId)),
      await client.createProject(projectReq('two', 'user/alice/team', 'gitea', laId)),
      await client.createProject(projectReq('three', 'user/alice', 'gitea', laId)),
    ];
    const refs = Array.from({ length: 60 }, (_, i) =>
      i % 4 === 3 ? `ghost-${i}` : projects[i % 4]!.id,
    );
    const answers = await Promise.all(
      refs.map((ref) =>
        client.getProject(ref).then(
          (p) => p,
          async (err: unknown) => (await remoteError(Promise.reject(err))).status,
        ),
      ),
    );
    answers.forEach((a, i) => expect(a).toEqual(i % 4 === 3 ? 404 : projects[i % 4]));
    expect(projects.map((p) => p.Path)).toEqual([
      'org/acme/one',
      'user/alice/team/two',
      'user/alice/three',
    ]);
    expect(projects[0]!.GlobalVisibility).toBe('private');
  });
});

import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createRemoteSource, registerUser, sharedForge, startGateway, unique } from './helpers.js';

async function status(p: Promise<unknown>): Promise<number> {
  return p.then(
    () => 200,
    (e: unknown) => {
      if (e instanceof RemoteError) return e.status;
      throw e;
    },
  );
}

describe('gateway read cache', () => {
  test("a GET keeps the run page's permission lookups for permissionsTtlMs; a write through the gateway drops them at once", async () => {
    // gateway A keeps its lookups long (to see it), B and C are other gateways on the same services
    const a = await startGateway({}, { readCache: { permissionsTtlMs: 60_000 } });
    const b = await startGateway();
    const c = await startGateway({}, { readCache: { permissionsTtlMs: 0 } });
    const forge = await sharedForge();
    const rs = await createRemoteSource(a, forge);
    const login = unique('cache');
    const owner = await registerUser(a, forge, rs, login);
    const repo = await forge.createRepo({ owner: login, name: 'app' });
    const project = await owner.client.createProject({
      name: 'app',
      parent_ref: `user/${login}`,
      visibility: 'public',
      repo_path: repo.path,
      remote_source_name: rs,
    });
    await a.backends.runservice.createRun({
      name: 'r',
      group: `/project/${project.id}/branch/main`,
      setup_errors: ['a run without tasks'],
    });
    const ownerOn = (gw: typeof a) => gw.client({ bearer: owner.token });
    const run = { kind: 'project', ref: project.path } as const;
    expect(await status(a.anonymous.getRun(run, 1))).toBe(200);
    expect(await status(c.anonymous.getRun(run, 1))).toBe(200);

    // made private through gateway B: A still serves what it read (within its ttl), C does not keep
    await ownerOn(b).updateProject(project.path, { visibility: 'private' });
    expect(await status(b.anonymous.getRun(run, 1))).toBe(403);
    expect(await status(c.anonymous.getRun(run, 1))).toBe(403);
    expect(await status(a.anonymous.getRun(run, 1))).toBe(200);
    // the owner (a member) reads it everywhere
    expect(await status(ownerOn(a).getRun(run, 1))).toBe(200);

    // any write through A drops what A kept
    await ownerOn(a).updateProject(project.path, { visibility: 'private' });
    expect(await status(a.anonymous.getRun(run, 1))).toBe(403);
    // and a public project again through A shows at once
    await ownerOn(a).updateProject(project.path, { visibility: 'public' });
    expect(await status(a.anonymous.getRun(run, 1))).toBe(200);
  });

  test('an API token deleted through another gateway keeps reading for permissionsTtlMs there, never writing; a write drops it at once', async () => {
    const a = await startGateway({}, { readCache: { permissionsTtlMs: 60_000 } });
    const b = await startGateway();
    const c = await startGateway({}, { readCache: { permissionsTtlMs: 0 } });
    const forge = await sharedForge();
    const rs = await createRemoteSource(a, forge);
    const login = unique('tok');
    const owner = await registerUser(a, forge, rs, login);
    const { token } = await owner.client.createUserToken(login, 'script');
    const onA = a.client({ token });
    const onC = c.client({ token });
    expect((await onA.getCurrentUser()).username).toBe(login);
    expect(await status(onC.getCurrentUser())).toBe(200);

    await b.client({ bearer: owner.token }).deleteUserToken(login, 'script');
    expect(await status(b.client({ token }).getCurrentUser())).toBe(401);
    expect(await status(onC.getCurrentUser())).toBe(401);
    // A read the token's user a moment ago: GETs go on for its ttl, writes check afresh
    expect(await status(onA.getCurrentUser())).toBe(200);
    expect(await status(onA.createOrg({ name: unique('org'), visibility: 'public' }))).toBe(401);
    // that refused write went through A: what A kept is gone
    expect(await status(onA.getCurrentUser())).toBe(401);
  });
});

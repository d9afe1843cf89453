import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { startForge } from '@agola-ts/testkit';
import { createRemoteSource, registerUser, sharedForge, startGateway, unique } from './helpers.js';

async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof RemoteError) return err.status;
    throw err;
  }
}

describe('gateway linked accounts', () => {
  test('create and delete a linked account; switch a project to another owner linked account', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const rs1 = await createRemoteSource(gw, forge);
    // a second forge: two remote sources on one forge would share the forge token agola-<id>
    const forge2 = await startForge({ type: 'gitea' });
    const rs2 = await createRemoteSource(gw, forge2);
    const aliceLogin = unique('ala');
    const bobLogin = unique('bla');
    const alice = await registerUser(gw, forge, rs1, aliceLogin);
    const bob = await registerUser(gw, forge, rs1, bobLogin);
    forge2.addUser({ login: aliceLogin, password: 'forge-password' });
    forge2.addUser({ login: bobLogin, password: 'forge-password' });

    // a second linked account, on the second remote source (password login on the forge)
    const created = await alice.client.createUserLA(aliceLogin, {
      remote_source_name: rs2,
      remote_source_login_name: aliceLogin,
      remote_source_login_password: 'forge-password',
    });
    expect(created.oauth2_redirect).toBe('');
    expect(created.linked_account?.remote_username).toBe(aliceLogin);
    const me = await alice.client.getCurrentUser();
    expect(me.linked_accounts).toHaveLength(2);
    // one per remote source; never for another user; a wrong password is a 401
    expect(
      await status(
        alice.client.createUserLA(aliceLogin, {
          remote_source_name: rs2,
          remote_source_login_name: aliceLogin,
          remote_source_login_password: 'forge-password',
        }),
      ),
    ).toBe(400);
    expect(
      await status(
        bob.client.createUserLA(aliceLogin, {
          remote_source_name: rs2,
          remote_source_login_name: bobLogin,
          remote_source_login_password: 'forge-password',
        }),
      ),
    ).toBe(403);
    expect(
      await status(
        bob.client.createUserLA(bobLogin, {
          remote_source_name: rs2,
          remote_source_login_name: bobLogin,
          remote_source_login_password: 'nope',
        }),
      ),
    ).toBe(401);
    const laId = created.linked_account!.id;
    expect(await status(bob.client.deleteUserLA(aliceLogin, laId))).toBe(403);
    await alice.client.deleteUserLA(aliceLogin, laId);
    expect((await alice.client.getCurrentUser()).linked_accounts).toHaveLength(1);

    // an org owned by both; alice's project switched to bob's linked account
    const orgName = unique('team');
    await alice.client.createOrg({ name: orgName, visibility: 'public' });
    await alice.client.addOrgMember(orgName, bobLogin, 'owner');
    const repo = await forge.createRepo({
      owner: aliceLogin,
      name: 'shared',
      members: { [bobLogin]: 'admin' },
    });
    const project = await alice.client.createProject({
      name: 'shared',
      parent_ref: `org/${orgName}`,
      visibility: 'public',
      repo_path: repo.path,
      remote_source_name: rs1,
    });
    const before = await gw.backends.configstore.getProject(project.id);
    await bob.client.updateRepoLinkedAccount(project.id);
    const after = await gw.backends.configstore.getProject(project.id);
    const bobUser = await gw.backends.configstore.getUser(bobLogin);
    expect(after.linked_account_id).not.toBe(before.linked_account_id);
    expect(Object.keys(bobUser.linked_accounts ?? {})).toContain(after.linked_account_id);
    // the key and secrets stay
    expect(after.ssh_private_key).toBe(before.ssh_private_key);
    expect(after.webhook_secret).toBe(before.webhook_secret);
    // reconfig now acts as bob's account: still one key and one hook
    await bob.client.reconfigProject(project.id);
    expect(forge.hooks(repo.path)).toHaveLength(1);
    expect(forge.deployKeys(repo.path)).toHaveLength(1);
    // with only write access on the forge, bob's account may not manage deploy keys: a 400
    const repo2 = await forge.createRepo({
      owner: aliceLogin,
      name: 'other',
      members: { [bobLogin]: 'write' },
    });
    const p2 = await alice.client.createProject({
      name: 'other',
      parent_ref: `org/${orgName}`,
      visibility: 'public',
      repo_path: repo2.path,
      remote_source_name: rs1,
    });
    await bob.client.updateRepoLinkedAccount(p2.id);
    const refused = await bob.client.reconfigProject(p2.id).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(refused?.status).toBe(400);
    expect(refused?.remoteCode).toBe('ERR_GATEWAY_REMOTE_SOURCE');
    await forge2.stop();
  });
});

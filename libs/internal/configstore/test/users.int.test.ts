import { describe, expect, it } from 'vitest';
import { giteaSource, remoteError, startFresh } from './helpers.js';

describe('configstore users', () => {
  it('creates, gets, renames and deletes users', async () => {
    const { client } = await startFresh();
    const alice = await client.createUser({ user_name: 'alice' });
    expect(alice.name).toBe('alice');
    expect(alice.secret).toMatch(/^[0-9a-f]{40}$/);
    expect(await client.getUser('alice')).toEqual(alice);
    expect(await client.getUser(alice.id)).toEqual(alice);

    const dup = await remoteError(client.createUser({ user_name: 'alice' }));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    expect(dup.remoteMessage).toContain('alice');

    const renamed = await client.updateUser('alice', 'alice2');
    expect(renamed).toEqual({ ...alice, name: 'alice2' });
    expect((await remoteError(client.getUser('alice'))).status).toBe(404);
    await client.createUser({ user_name: 'bob' });
    const taken = await remoteError(client.updateUser('alice2', 'bob'));
    expect([taken.status, taken.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);

    await client.deleteUser(alice.id);
    const gone = await remoteError(client.getUser(alice.id));
    expect([gone.status, gone.kind, gone.remoteCode]).toEqual([404, 'notexist', 'ERR_NOT_EXIST']);
    const again = await remoteError(client.deleteUser(alice.id));
    expect([again.status, again.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
    expect((await remoteError(client.updateUser('nobody', 'ab'))).status).toBe(400);
  });

  it('rejects invalid user names with a message naming the field', async () => {
    const { client } = await startFresh();
    for (const name of ['', 'a', '1abc', 'a--b', '2d0ad1a8-1e08-4a67-a1b9-1ad8c5b0a3e4']) {
      const err = await remoteError(client.createUser({ user_name: name }));
      expect(err.status).toBe(400);
      expect(err.remoteCode).toBe('ERR_CONFIGSTORE_INVALID_REQUEST');
      expect(err.remoteMessage).toContain('user_name');
    }
  });

  it('manages tokens and finds users by token', async () => {
    const { client } = await startFresh();
    const u = await client.createUser({ user_name: 'tok-user' });
    const { token } = await client.createUserToken('tok-user', 'ci');
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    expect((await client.getUser(u.id)).tokens).toEqual({ ci: token });
    expect((await client.getUserByQuery({ query_type: 'bytoken', token })).id).toBe(u.id);
    const dup = await remoteError(client.createUserToken('tok-user', 'ci'));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    const noName = await remoteError(client.createUserToken('tok-user', ''));
    expect(noName.remoteMessage).toBe('token_name is required');
    expect((await remoteError(client.createUserToken('nobody', 'x'))).status).toBe(400);
    await client.deleteUserToken('tok-user', 'ci');
    expect((await remoteError(client.deleteUserToken('tok-user', 'ci'))).status).toBe(400);
    const none = await remoteError(client.getUserByQuery({ query_type: 'bytoken', token }));
    expect(none.status).toBe(404);
  });

  it('manages linked accounts and finds users by them', async () => {
    const { client } = await startFresh();
    const rs = await client.createRemoteSource(giteaSource('gitea1'));
    const u = await client.createUser({
      user_name: 'la-user',
      create_user_la_request: {
        remote_source_name: 'gitea1',
        remote_user_id: '42',
        remote_user_name: 'remote42',
        user_access_token: 'tok',
      },
    });
    const [la] = Object.values(u.linked_accounts ?? {});
    expect(la).toMatchObject({
      remote_user_id: '42',
      remote_username: 'remote42',
      remote_source_id: rs.id,
      user_access_token: 'tok',
    });
    const byRemote = await client.getUserByQuery({
      query_type: 'byremoteuser',
      remoteuserid: '42',
      remotesourceid: rs.id,
    });
    expect(byRemote.id).toBe(u.id);
    expect(
      (await client.getUserByQuery({ query_type: 'bylinkedaccount', linkedaccountid: la!.id })).id,
    ).toBe(u.id);

    // the same remote user cannot be linked twice
    const dup = await remoteError(
      client.createUser({
        user_name: 'other',
        create_user_la_request: { remote_source_name: 'gitea1', remote_user_id: '42' },
      }),
    );
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    const noRs = await remoteError(
      client.createUser({
        user_name: 'other',
        create_user_la_request: { remote_source_name: 'nope', remote_user_id: '1' },
      }),
    );
    expect([noRs.status, noRs.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);

    const la2 = await client.createUserLA('la-user', {
      remote_source_name: 'gitea1',
      remote_user_id: '43',
    });
    const updated = await client.updateUserLA('la-user', la2.id, {
      oauth2_access_token: 'new',
      oauth_2_access_token_expires_at: '2030-01-02T03:04:05Z',
    });
    expect(updated).toMatchObject({ id: la2.id, remote_user_id: '43', oauth2_access_token: 'new' });
    expect((await client.getUser(u.id)).linked_accounts?.[la2.id]).toEqual(updated);
    const badTime = await remoteError(
      client.updateUserLA('la-user', la2.id, { oauth_2_access_token_expires_at: 'soon' }),
    );
    expect(badTime.remoteMessage).toContain('oauth_2_access_token_expires_at');
    expect((await remoteError(client.updateUserLA('la-user', 'nope', {}))).status).toBe(400);
    await client.deleteUserLA('la-user', la2.id);
    expect((await remoteError(client.deleteUserLA('la-user', la2.id))).status).toBe(400);
    expect(Object.keys((await client.getUser(u.id)).linked_accounts ?? {})).toEqual([la!.id]);
  });

  it('pages users by name', async () => {
    const { client } = await startFresh();
    const names = Array.from({ length: 25 }, (_, i) => `user${String(i).padStart(2, '0')}`);
    for (const n of names) await client.createUser({ user_name: n });
    const desc = [...names].reverse();
    expect((await client.getUsers()).map((u) => u.name)).toEqual(desc.slice(0, 10));
    expect((await client.getUsers({ limit: 100 })).map((u) => u.name)).toEqual(desc.slice(0, 20));
    expect((await client.getUsers({ asc: true, limit: 3 })).map((u) => u.name)).toEqual([
      'user00',
      'user01',
      'user02',
    ]);
    expect((await client.getUsers({ asc: true, start: 'user22' })).map((u) => u.name)).toEqual([
      'user23',
      'user24',
    ]);
    expect((await client.getUsers({ start: 'user02' })).map((u) => u.name)).toEqual([
      'user01',
      'user00',
    ]);
    const bad = await remoteError(client.getUsers({ limit: -1 }));
    expect([bad.status, bad.remoteMessage]).toEqual([400, 'limit must be a non-negative integer']);
    const badQuery = await remoteError(client.getUserByQuery({ query_type: 'nope' } as never));
    expect(badQuery.status).toBe(400);
  });
});

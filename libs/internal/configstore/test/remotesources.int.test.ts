import { describe, expect, it } from 'vitest';
import { giteaSource, remoteError, startFresh } from './helpers.js';

describe('configstore remote sources', () => {
  it('creates, gets, updates and deletes remote sources', async () => {
    const { client } = await startFresh();
    const rs = await client.createRemoteSource({
      Name: 'github',
      APIURL: 'https://api.github.com',
      Type: 'github',
      AuthType: 'oauth2',
      Oauth2ClientID: 'id',
      Oauth2ClientSecret: 'secret',
      LoginEnabled: false,
    });
    expect(rs).toEqual({
      id: rs.id,
      name: 'github',
      apiurl: 'https://api.github.com',
      type: 'github',
      auth_type: 'oauth2',
      client_id: 'id',
      client_secret: 'secret',
      registration_enabled: true,
      login_enabled: false,
    });
    expect(await client.getRemoteSource('github')).toEqual(rs);
    expect(await client.getRemoteSource(rs.id)).toEqual(rs);
    const dup = await remoteError(client.createRemoteSource(giteaSource('github')));
    expect([dup.status, dup.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);

    const updated = await client.updateRemoteSource('github', {
      ...giteaSource('gitea-main'),
      SkipVerify: true,
    });
    expect(updated).toMatchObject({ id: rs.id, name: 'gitea-main', skip_verify: true });
    expect((await remoteError(client.getRemoteSource('github'))).status).toBe(404);
    await client.createRemoteSource(giteaSource('other'));
    const rename = await remoteError(client.updateRemoteSource('other', giteaSource('gitea-main')));
    expect([rename.status, rename.remoteCode]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
    expect(
      (await remoteError(client.updateRemoteSource('nope', giteaSource('nope2')))).status,
    ).toBe(400);

    await client.deleteRemoteSource(rs.id);
    expect((await remoteError(client.getRemoteSource(rs.id))).status).toBe(404);
    expect((await remoteError(client.deleteRemoteSource(rs.id))).status).toBe(400);
  });

  it('validates remote sources, naming the field', async () => {
    const { client } = await startFresh();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...giteaSource('x1'), Name: '' }, 'Name is required'],
      [{ ...giteaSource('x1'), APIURL: undefined }, 'APIURL is required'],
      [{ ...giteaSource('x1'), APIURL: 'not a url' }, 'APIURL "not a url" is not a valid URL'],
      [{ ...giteaSource('x1'), Type: 'svn' }, 'Type "svn" is not one of gitea, github, gitlab'],
      [{ ...giteaSource('x1'), AuthType: 'ssh' }, 'AuthType "ssh" is not one of password, oauth2'],
      [
        { ...giteaSource('x1'), Type: 'github' },
        'AuthType password is not supported by remote source Type github',
      ],
      [
        { ...giteaSource('x1'), AuthType: 'oauth2' },
        'Oauth2ClientID is required for AuthType oauth2',
      ],
      [{ ...giteaSource('x1'), SkipVerify: 'yes' }, 'SkipVerify must be a boolean'],
    ];
    for (const [body, message] of cases) {
      const err = await remoteError(client.createRemoteSource(body as never));
      expect([err.status, err.remoteCode, err.remoteMessage]).toEqual([
        400,
        'ERR_CONFIGSTORE_INVALID_REQUEST',
        message,
      ]);
    }
  });

  it('pages remote sources by name', async () => {
    const { client } = await startFresh();
    for (const n of ['rs-a', 'rs-b', 'rs-c']) await client.createRemoteSource(giteaSource(n));
    expect((await client.getRemoteSources({ asc: true })).map((r) => r.name)).toEqual([
      'rs-a',
      'rs-b',
      'rs-c',
    ]);
    expect((await client.getRemoteSources({ start: 'rs-c', limit: 1 })).map((r) => r.name)).toEqual(
      ['rs-b'],
    );
  });
});

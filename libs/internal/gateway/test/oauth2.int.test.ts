import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import type { LoginUserResponse } from '@agola-ts/gateway-client';
import { sharedForge, startGateway, unique } from './helpers.js';

/** Plays the logged-in browser: follows the authorize URL as `login` and returns the callback's code and state. */
async function authorizeAs(url: string, login: string, password: string) {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
  });
  expect(res.status).toBeGreaterThanOrEqual(300);
  expect(res.status).toBeLessThan(400);
  const location = new URL(res.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe('http://agola.test/oauth2/callback');
  return {
    code: location.searchParams.get('code') ?? '',
    state: location.searchParams.get('state') ?? '',
  };
}

describe('gateway OAuth2 remote sources', () => {
  test('register and log in through the OAuth2 authorization-code flow; a tampered state is refused', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const app = forge.addOAuth2App({ redirectURI: 'http://agola.test/oauth2/callback' });
    const rs = unique('giteaoauth');
    await gw.admin.createRemoteSource({
      name: rs,
      apiurl: forge.apiURL,
      type: 'gitea',
      auth_type: 'oauth2',
      oauth_2_client_id: app.clientId,
      oauth_2_client_secret: app.clientSecret,
    });
    const login = unique('oa');
    forge.addUser({ login, password: 'pw' });

    const reg = await gw.anonymous.register({ username: login, remote_source_name: rs });
    expect(reg.oauth2_redirect).not.toBe('');
    const first = await authorizeAs(reg.oauth2_redirect, login, 'pw');
    const registered = await gw.anonymous.oauth2Callback(first.code, first.state);
    expect(registered.request_type).toBe('registeruser');

    const start = await gw.anonymous.login({ remote_source_name: rs });
    expect(start.token).toBe('');
    const second = await authorizeAs(start.oauth2_redirect, login, 'pw');
    // a state altered by the browser is refused
    const forged = `${second.state.slice(0, -4)}AAAA`;
    const bad = await gw.anonymous.oauth2Callback(second.code, forged).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(bad).toBeInstanceOf(RemoteError);
    expect(bad!.status).toBe(400);
    const done = await gw.anonymous.oauth2Callback(second.code, second.state);
    expect(done.request_type).toBe('loginuser');
    const res = done.response as { Token: string; User: LoginUserResponse['user'] };
    expect(res.User?.username).toBe(login);
    const me = await gw.client({ bearer: res.Token }).getCurrentUser();
    expect(me.username).toBe(login);
    // the linked account keeps the OAuth2 tokens, used for the user's repositories
    await forge.createRepo({ owner: login, name: 'lib' });
    const repos = await gw.client({ bearer: res.Token }).getUserRemoteRepos(rs);
    expect(repos.map((r) => r.path)).toContain(`${login}/lib`);
  });
});

import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import type { LoginUserResponse } from '@agola-ts/gateway-client';
import type { ForgeType } from '@agola-ts/testkit';
import { startGateway, unique } from './helpers.js';
import { newForge } from './runs-helpers.js';

/** Plays the logged-in browser: follows the authorize URL as `login`, returns the callback's code and state. */
async function authorizeAs(url: string, login: string, password: string) {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
  });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe('http://agola.test/oauth2/callback');
  return {
    code: location.searchParams.get('code') ?? '',
    state: location.searchParams.get('state') ?? '',
  };
}

const PROVIDERS: { type: ForgeType; authorizePath: string }[] = [
  { type: 'github', authorizePath: '/login/oauth/authorize' },
  { type: 'gitlab', authorizePath: '/oauth/authorize' },
];

describe.each(PROVIDERS)('gateway OAuth2 logins with $type', ({ type, authorizePath }) => {
  test('register and log in (authorize URL -> code -> callback -> token); an expired token is refreshed and saved on use', async () => {
    const gw = await startGateway();
    const forge = await newForge(type);
    const app = forge.addOAuth2App({ redirectURI: 'http://agola.test/oauth2/callback' });
    const rs = unique(type);
    await gw.admin.createRemoteSource({
      name: rs,
      apiurl: forge.apiURL,
      type,
      auth_type: 'oauth2',
      oauth_2_client_id: app.clientId,
      oauth_2_client_secret: app.clientSecret,
    });
    const login = unique('oa');
    forge.addUser({ login, password: 'pw' });

    // registration: the gateway answers the provider's authorize URL with a signed state
    const reg = await gw.anonymous.register({ username: login, remote_source_name: rs });
    const authorizeURL = new URL(reg.oauth2_redirect);
    expect(`${authorizeURL.origin}${authorizeURL.pathname}`).toBe(`${forge.url}${authorizePath}`);
    expect(authorizeURL.searchParams.get('client_id')).toBe(app.clientId);
    expect(authorizeURL.searchParams.get('redirect_uri')).toBe('http://agola.test/oauth2/callback');
    const first = await authorizeAs(reg.oauth2_redirect, login, 'pw');
    const registered = await gw.anonymous.oauth2Callback(first.code, first.state);
    expect(registered.request_type).toBe('registeruser');
    // a code is single use
    const reused = await gw.anonymous.oauth2Callback(first.code, first.state).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(reused).toBeInstanceOf(RemoteError);
    expect(reused!.status).toBe(400);

    // login
    const start = await gw.anonymous.login({ remote_source_name: rs });
    expect(start.token).toBe('');
    const second = await authorizeAs(start.oauth2_redirect, login, 'pw');
    const done = await gw.anonymous.oauth2Callback(second.code, second.state);
    expect(done.request_type).toBe('loginuser');
    const res = done.response as { Token: string; User: LoginUserResponse['user'] };
    expect(res.User?.username).toBe(login);
    const alice = gw.client({ bearer: res.Token });
    expect((await alice.getCurrentUser()).username).toBe(login);
    await forge.createRepo({ owner: login, name: 'lib' });
    expect((await alice.getUserRemoteRepos(rs)).map((r) => r.path)).toContain(`${login}/lib`);

    // the access token expires: the next use refreshes it with the refresh token and saves it
    const user = await gw.backends.configstore.getUser(login);
    const la = Object.values(user.linked_accounts ?? {})[0]!;
    const oldAccess = la.oauth2_access_token!;
    const oldRefresh = la.oauth2_refresh_token!;
    expect(oldAccess).not.toBe('');
    expect(oldRefresh).not.toBe('');
    expect(Date.parse(la.oauth_2_access_token_expires_at ?? '')).toBeGreaterThan(Date.now());
    forge.expireToken(oldAccess);
    await gw.backends.configstore.updateUserLA(user.id, la.id, {
      remote_user_id: la.remote_user_id ?? '',
      oauth2_access_token: oldAccess,
      oauth2_refresh_token: oldRefresh,
      oauth_2_access_token_expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    // that write went around the gateway, which keeps a GET's user up to 1 s: any write
    // through the gateway drops what it keeps
    await alice.createUserToken(login, 'after-expiry');
    expect((await alice.getUserRemoteRepos(rs)).map((r) => r.path)).toContain(`${login}/lib`);
    const saved = Object.values(
      (await gw.backends.configstore.getUser(login)).linked_accounts ?? {},
    )[0]!;
    expect(saved.oauth2_access_token).not.toBe(oldAccess);
    expect(saved.oauth2_refresh_token).not.toBe(oldRefresh);
    expect(Date.parse(saved.oauth_2_access_token_expires_at ?? '')).toBeGreaterThan(Date.now());
    // the saved token is the one that works now; the old one is refused by the forge
    const byToken = async (token: string) =>
      (
        await fetch(`${forge.apiURL}${type === 'gitlab' ? '/api/v4' : ''}/user`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status;
    expect(await byToken(saved.oauth2_access_token!)).toBe(200);
    expect(await byToken(oldAccess)).toBe(401);
    // used again at once: the refresh dropped the kept user (with the spent refresh token), so
    // no second refresh (it would fail: refresh tokens are single use)
    await alice.getUserRemoteRepos(rs);
    const again = Object.values(
      (await gw.backends.configstore.getUser(login)).linked_accounts ?? {},
    )[0]!;
    expect(again.oauth2_access_token).toBe(saved.oauth2_access_token);
  });
});

import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createJwtSigner, GatewayErrorCodes } from '../src/index.js';
import {
  ADMIN_TOKEN,
  createRemoteSource,
  HMAC_KEY,
  raw,
  registerUser,
  rsaKeyFiles,
  sharedForge,
  startGateway,
  unique,
} from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<RemoteError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('gateway authentication', () => {
  test('register and log in through a password remote source (Gitea)', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const login = unique('alice');
    const alice = await registerUser(gw, forge, rs, login);
    expect(alice.user.username).toBe(login);
    // the JWT is a login token: GET /user answers the user with its linked account
    const me = await alice.client.getCurrentUser();
    expect(me.id).toBe(alice.user.id);
    expect(me.linked_accounts).toHaveLength(1);
    expect(me.linked_accounts[0]!.remote_user_name).toBe(login);
    // the password login created the forge token agola-<id> for the linked account
    const claims = createJwtSigner({ alg: 'HS256', key: HMAC_KEY }).verify(alice.token);
    expect(claims?.sub).toBe(alice.user.id);
    expect(typeof claims?.exp).toBe('number');

    // a second registration of the same forge account is refused
    const again = await rejection(
      gw.anonymous.register({
        username: unique('other'),
        remote_source_name: rs,
        remote_source_login_name: login,
        remote_source_login_password: 'forge-password',
      }),
    );
    expect(again.status).toBe(400);

    // authorize tells who the remote account is
    const who = await gw.anonymous.authorize({
      remote_source_name: rs,
      login_name: login,
      password: 'forge-password',
    });
    expect(who.remote_user_info?.LoginName).toBe(login);
    expect(who.remote_source_name).toBe(rs);
  });

  test('wrong forge password and unknown remote account answer 401', async () => {
    const gw = await startGateway();
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const login = unique('bob');
    await registerUser(gw, forge, rs, login);
    const bad = await rejection(
      gw.anonymous.login({ remote_source_name: rs, login_name: login, password: 'wrong' }),
    );
    expect(bad.status).toBe(401);
    expect(bad.remoteCode).toBe(GatewayErrorCodes.RemoteLoginFailed);
    // a forge user that never registered
    const stranger = unique('stranger');
    forge.addUser({ login: stranger, password: 'pw' });
    const unknown = await rejection(
      gw.anonymous.login({ remote_source_name: rs, login_name: stranger, password: 'pw' }),
    );
    expect(unknown.status).toBe(401);
    // a missing remote source is the configstore's 404, passed through
    const missing = await rejection(
      gw.anonymous.login({ remote_source_name: unique('nors'), login_name: 'x', password: 'y' }),
    );
    expect(missing.status).toBe(404);
  });

  test('user tokens work as `token` header and as ?access_token, also without an admin token configured', async () => {
    const gw = await startGateway({ adminToken: '' });
    const { configstore } = gw.backends;
    const name = unique('tok');
    const user = await configstore.createUser({ user_name: name });
    const { token } = await configstore.createUserToken(user.id, 'api');
    expect((await gw.client({ token }).getCurrentUser()).id).toBe(user.id);
    const viaQuery = await raw(gw.root, 'GET', `/api/v1alpha/user?access_token=${token}`);
    expect(viaQuery.status).toBe(200);
    expect((viaQuery.json as { username: string }).username).toBe(name);
    // case-insensitive scheme, as Agola matches it
    const upper = await raw(gw.root, 'GET', '/api/v1alpha/user', {
      headers: { authorization: `TOKEN ${token}` },
    });
    expect(upper.status).toBe(200);
    // an unknown token is a 401 even on a route where auth is optional
    const unknown = await rejection(gw.client({ token: 'not-a-token' }).getRemoteSources());
    expect(unknown.status).toBe(401);
    expect(unknown.remoteCode).toBe(GatewayErrorCodes.InvalidToken);
    // with no admin token configured, an empty admin token grants nothing
    const empty = await raw(gw.root, 'GET', '/api/v1alpha/users', {
      headers: { authorization: 'token ' },
    });
    expect(empty.status).toBe(401);
  });

  test('the admin token is admin, and no user', async () => {
    const gw = await startGateway();
    expect(Array.isArray(await gw.admin.getUsers())).toBe(true);
    const me = await rejection(gw.admin.getCurrentUser());
    expect(me.status).toBe(401);
    const wrong = await rejection(gw.client({ token: `${ADMIN_TOKEN}x` }).getUsers());
    expect(wrong.status).toBe(401);
  });

  test('expired, tampered, foreign and alg-none JWTs are refused with 401', async () => {
    const gw = await startGateway();
    const { configstore } = gw.backends;
    const user = await configstore.createUser({ user_name: unique('jwt') });
    const signer = createJwtSigner({ alg: 'HS256', key: HMAC_KEY });
    const now = Math.floor(Date.now() / 1000);
    const good = signer.sign({ sub: user.id, exp: now + 600 });
    expect((await gw.client({ bearer: good }).getCurrentUser()).id).toBe(user.id);

    const expired = signer.sign({ sub: user.id, exp: now - 1 });
    const [h, p, s] = good.split('.') as [string, string, string];
    const other = await configstore.createUser({ user_name: unique('victim') });
    const tampered = `${h}.${b64({ sub: other.id, exp: now + 600 })}.${s}`;
    const foreign = createJwtSigner({ alg: 'HS256', key: 'another key' }).sign({
      sub: user.id,
      exp: now + 600,
    });
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: user.id, exp: now + 600 })}.`;
    const noneSigned = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`;
    const deletedUser = await configstore.createUser({ user_name: unique('gone') });
    const ofDeleted = signer.sign({ sub: deletedUser.id, exp: now + 600 });
    await configstore.deleteUser(deletedUser.id);
    for (const bad of [
      expired,
      tampered,
      foreign,
      none,
      noneSigned,
      ofDeleted,
      'garbage',
      `${good}x`,
    ]) {
      const err = await rejection(gw.client({ bearer: bad }).getCurrentUser());
      expect(err.status, bad).toBe(401);
      expect(err.remoteCode).toBe(GatewayErrorCodes.InvalidToken);
    }
  });

  test('RS256: login JWTs are verified with the public key; an HS256 token keyed with the public key is refused', async () => {
    const keys = await rsaKeyFiles();
    const gw = await startGateway({
      tokenSigning: {
        method: 'rsa',
        privateKeyPath: keys.privateKeyPath,
        publicKeyPath: keys.publicKeyPath,
      },
    });
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const alice = await registerUser(gw, forge, rs, unique('rsa'));
    expect(
      JSON.parse(Buffer.from(alice.token.split('.')[0]!, 'base64url').toString()),
    ).toMatchObject({
      alg: 'RS256',
    });
    expect((await alice.client.getCurrentUser()).id).toBe(alice.user.id);
    // algorithm confusion: HS256 with the public key PEM as the HMAC secret
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: alice.user.id, exp: Math.floor(Date.now() / 1000) + 600 })}`;
    const forged = `${input}.${createHmac('sha256', keys.publicKey).update(input).digest('base64url')}`;
    const err = await rejection(gw.client({ bearer: forged }).getCurrentUser());
    expect(err.status).toBe(401);
  });

  test('login JWTs expire after tokenSigning.durationMs', async () => {
    const gw = await startGateway({
      tokenSigning: { method: 'hmac', key: HMAC_KEY, durationMs: 1000 },
    });
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const u = await registerUser(gw, forge, rs, unique('short'));
    const exp = createJwtSigner({ alg: 'HS256', key: HMAC_KEY }).verify(u.token)?.exp ?? 0;
    expect(exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 2100));
    const err = await rejection(u.client.getCurrentUser());
    expect(err.status).toBe(401);
  });
});

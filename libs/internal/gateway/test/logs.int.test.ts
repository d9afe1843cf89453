import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { createErrorSerializer } from '@agola-ts/errors';
import {
  createRemoteSource,
  raw,
  registerUser,
  sharedForge,
  startGateway,
  unique,
} from './helpers.js';

describe('gateway logs', () => {
  test('a trace-level run never logs tokens, passwords, JWTs or secret values', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace', serializers: { err: createErrorSerializer() } },
      { write: (line: string) => void lines.push(line) },
    );
    const gw = await startGateway({}, { logger });
    const forge = await sharedForge();
    const rs = await createRemoteSource(gw, forge);
    const login = unique('quiet');
    const password = 'forge-password';
    const u = await registerUser(gw, forge, rs, login);
    // a failed login with another password
    const wrong = `wrong-${unique('pw')}`;
    await gw.anonymous
      .login({ remote_source_name: rs, login_name: login, password: wrong })
      .catch(() => undefined);
    const { token } = await u.client.createUserToken(login, 'api');
    // a token in the query string, and an unknown one
    expect((await raw(gw.root, 'GET', `/api/v1alpha/user?access_token=${token}`)).status).toBe(200);
    const bogus = `bogus${unique('t')}`;
    expect((await raw(gw.root, 'GET', `/api/v1alpha/user?access_token=${bogus}`)).status).toBe(401);
    const group = `user/${login}`;
    const secretValue = `s3cr3t-${unique('v')}`;
    await u.client.createSecret('projectgroup', group, {
      name: 'creds',
      data: { key: secretValue },
    });
    const linked = await gw.backends.configstore.getUser(login);
    const forgeToken = Object.values(linked.linked_accounts ?? {})[0]?.user_access_token ?? '';
    expect(forgeToken).not.toBe('');

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(all).toContain('/api/v1alpha/user');
    for (const value of [
      token,
      bogus,
      u.token,
      password,
      wrong,
      secretValue,
      forgeToken,
      u.forgeUser.token,
    ]) {
      expect(all.includes(value), `log holds ${value.slice(0, 6)}...`).toBe(false);
    }
  });
});

import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { GatewayErrorCodes } from '../src/index.js';
import { ADMIN_TOKEN, raw, startGateway, unique } from './helpers.js';

const API = '/api/v1alpha';

describe('gateway HTTP behaviour', () => {
  test('GET /health and GET /version', async () => {
    const gw = await startGateway();
    const health = await raw(gw.root, 'GET', '/health');
    expect(health.status).toBe(200);
    expect((health.json as { status: string }).status).toBe('ready');
    expect(await gw.anonymous.getVersion()).toEqual({
      service: 'gateway',
      version: expect.any(String),
    });
  });

  test('CORS only for the configured origins; none without web.allowedOrigins', async () => {
    const off = await startGateway();
    const plain = await raw(off.root, 'GET', `${API}/remotesources`, {
      headers: { origin: 'http://ui.example' },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const preflightOff = await raw(off.root, 'OPTIONS', `${API}/user`, {
      headers: { origin: 'http://ui.example', 'access-control-request-method': 'GET' },
    });
    expect(preflightOff.headers.get('access-control-allow-origin')).toBeNull();

    const on = await startGateway({
      web: { listen: { host: '127.0.0.1', port: 0 }, allowedOrigins: ['http://ui.example'] },
    });
    const allowed = await raw(on.root, 'GET', `${API}/remotesources`, {
      headers: { origin: 'http://ui.example' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://ui.example');
    const preflight = await raw(on.root, 'OPTIONS', `${API}/user`, {
      headers: {
        origin: 'http://ui.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://ui.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const foreign = await raw(on.root, 'GET', `${API}/remotesources`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const foreignPreflight = await raw(on.root, 'OPTIONS', `${API}/user`, {
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect(foreignPreflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(foreignPreflight.headers.get('access-control-allow-methods')).toBeNull();
  });

  test('a JSON body without Content-Type is read (as the web UI sends it); over 1 MiB is refused', async () => {
    const gw = await startGateway();
    const name = unique('noct');
    const created = await raw(gw.root, 'POST', `${API}/users`, {
      headers: { authorization: `token ${ADMIN_TOKEN}` },
      body: JSON.stringify({ username: name }),
    });
    expect(created.status).toBe(201);
    expect((created.json as { username: string }).username).toBe(name);
    const big = await raw(gw.root, 'POST', `${API}/users`, {
      headers: { authorization: `token ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(big.status).toBe(417);
    expect((big.json as { code: string }).code).toBe('ERR_SERVICE_BODY_TOO_LARGE');
  });

  test('downstream errors pass through with status, code and message', async () => {
    const gw = await startGateway();
    const nobody = unique('nobody');
    const missing = await raw(gw.root, 'GET', `${API}/users/${nobody}`, {
      headers: { authorization: `token ${ADMIN_TOKEN}` },
    });
    expect(missing.status).toBe(404);
    // the same code and message as the configstore's own answer
    const direct = await gw.backends.configstore.getUser(nobody).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(direct).toBeInstanceOf(RemoteError);
    expect(missing.json).toEqual({ code: direct!.remoteCode, message: direct!.remoteMessage });
    expect(direct!.remoteMessage).toContain(nobody);
    const invalid = await raw(gw.root, 'POST', `${API}/orgs`, {
      headers: { authorization: `token ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: unique('org'), visibility: 'secretive' }),
    });
    expect(invalid.status).toBe(400);
    expect((invalid.json as { code: string }).code).toMatch(/^ERR_CONFIGSTORE_/);
    const badName = await raw(gw.root, 'POST', `${API}/orgs`, {
      headers: { authorization: `token ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: '1bad', visibility: 'public' }),
    });
    expect(badName.status).toBe(400);
    expect((badName.json as { code: string }).code).toBe(GatewayErrorCodes.InvalidRequest);
  });

  test('fuzz: random bodies and refs get only 4xx answers', async () => {
    const gw = await startGateway();
    const cs = gw.backends.configstore;
    const user = await cs.createUser({ user_name: unique('fuzz') });
    const { token } = await cs.createUserToken(user.id, 'api');
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'a',
      '__proto__',
      'constructor',
      '../..',
      'x'.repeat(5000),
      [],
      [1, 'a'],
      {},
      { __proto__: { admin: true } },
      { toString: 'x' },
    ];
    const fields = [
      'name',
      'username',
      'visibility',
      'parent_ref',
      'role',
      'data',
      'values',
      'token_name',
      'remote_source_name',
      'repo_path',
      'type',
      'auth_type',
      'apiurl',
      '__proto__',
      'constructor',
    ];
    const refs = [
      '%2e%2e',
      '..%2F..',
      'org%2F',
      '%00',
      'a'.repeat(300),
      'user%2Fnobody%2Fx',
      '__proto__',
      'constructor',
      '%E2%80%AE',
      '-',
    ];
    const routes: [string, string][] = [
      ['POST', '/users'],
      ['POST', '/orgs'],
      ['POST', '/projectgroups'],
      ['POST', '/projects'],
      ['POST', '/remotesources'],
      ['PUT', '/orgs/{ref}/members/{ref}'],
      ['PUT', '/projectgroups/{ref}'],
      ['PUT', '/projects/{ref}'],
      ['POST', '/projects/{ref}/secrets'],
      ['POST', '/projectgroups/{ref}/variables'],
      ['POST', '/users/{ref}/tokens'],
      ['POST', '/users/{ref}/linkedaccounts'],
      ['POST', '/auth/login'],
      ['POST', '/auth/register'],
      ['POST', '/auth/authorize'],
      ['GET', '/auth/oauth2/callback?code=x&state={ref}'],
      ['GET', '/projects/{ref}'],
      ['GET', '/projectgroups/{ref}/subgroups'],
      ['GET', '/users?limit={ref}'],
      ['GET', '/orgs?limit=-1&start={ref}'],
      ['DELETE', '/projects/{ref}/secrets/{ref}'],
    ];
    const failures: string[] = [];
    for (let i = 0; i < 250; i++) {
      const [method, template] = pick(routes);
      const path = template.replaceAll('{ref}', () => pick(refs));
      const body: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 5);
      for (let j = 0; j < n; j++) body[pick(fields)] = pick(values);
      const text =
        rnd() < 0.1
          ? '{"name": '
          : rnd() < 0.1
            ? JSON.stringify(pick(values))
            : JSON.stringify(body);
      const headers: Record<string, string> = {
        authorization: rnd() < 0.5 ? `token ${token}` : `token ${ADMIN_TOKEN}`,
      };
      if (rnd() < 0.5) headers['content-type'] = 'application/json';
      const res = await raw(
        gw.root,
        method,
        `${API}${path}`,
        method === 'GET' || method === 'DELETE' ? { headers } : { headers, body: text },
      );
      if (res.status >= 500 || res.status < 200)
        failures.push(
          `${method} ${path} ${text.slice(0, 80)} -> ${res.status} ${res.text.slice(0, 120)}`,
        );
      if (res.status >= 400) {
        const b = res.json as { code?: unknown; message?: unknown } | undefined;
        if (typeof b?.code !== 'string' || typeof b.message !== 'string')
          failures.push(`${method} ${path}: not a JSON error: ${res.text.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH } from '@agola-ts/types';
import { createConfigstore, READDB_FILE, type Configstore } from '../src/index.js';
import { giteaSource, newInstallation, startFresh, startInstance } from './helpers.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A JSON request to the API; the parsed answer (undefined for an empty one). */
async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

describe('configstore security', () => {
  it('checks hostile and long names at once, caps them at what the router addresses', async () => {
    const { url } = await startFresh();
    // 29 characters blocked Agola's regexp for seconds; 5,000 would never finish
    for (const name of [`${'a'.repeat(28)}!`, `${'a1'.repeat(2_500)}!`, 'a'.repeat(101)]) {
      const r = await call(url, 'POST', '/users', { user_name: name });
      expect([r.status, r.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_INVALID_REQUEST']);
    }
    const longest = `a${'b-c'.repeat(33)}`;
    expect(longest).toHaveLength(MAX_NAME_LENGTH);
    expect((await call(url, 'POST', '/users', { user_name: longest })).status).toBe(201);
    expect((await call(url, 'GET', `/users/${longest}`)).body?.['name']).toBe(longest);
    expect(
      (await call(url, 'POST', `/users/${longest}/tokens`, { token_name: longest })).status,
    ).toBe(201);
    // token names follow the name rules
    for (const tokenName of [
      'bad name',
      '__proto__',
      '1x',
      'a'.repeat(101),
      `${'a'.repeat(28)}!`,
    ]) {
      const r = await call(url, 'POST', `/users/${longest}/tokens`, { token_name: tokenName });
      expect([r.status, r.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_INVALID_REQUEST']);
    }
  });

  it('treats constructor, toString, hasOwnProperty and __proto__ as plain keys', async () => {
    const { url, client } = await startFresh();
    await client.createRemoteSource(giteaSource('gitea'));
    await client.createUser({
      user_name: 'uu',
      create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '7' },
    });
    expect((await call(url, 'POST', '/users/uu/tokens', { token_name: 'ci' })).status).toBe(201);
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      // a name like any other
      expect((await call(url, 'POST', '/users', { user_name: key })).status).toBe(201);
      expect((await call(url, 'GET', `/users/${key}`)).body?.['name']).toBe(key);
      expect((await call(url, 'POST', '/orgs', { Name: key, Visibility: 'public' })).status).toBe(
        201,
      );
      // a token that does not exist yet, then exists, then is gone
      expect((await call(url, 'POST', '/users/uu/tokens', { token_name: key })).status).toBe(201);
      const dup = await call(url, 'POST', '/users/uu/tokens', { token_name: key });
      expect([dup.status, dup.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_ALREADY_EXISTS']);
      expect((await call(url, 'DELETE', `/users/uu/tokens/${key}`)).status).toBe(204);
      const gone = await call(url, 'DELETE', `/users/uu/tokens/${key}`);
      expect([gone.status, gone.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
      // never a linked account
      for (const method of ['PUT', 'DELETE']) {
        const la = await call(
          url,
          method,
          `/users/uu/linkedaccounts/${key}`,
          method === 'PUT' ? {} : undefined,
        );
        expect([la.status, la.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
      }
    }
    const proto = await call(url, 'DELETE', '/users/uu/tokens/__proto__');
    expect([proto.status, proto.body?.['code']]).toEqual([400, 'ERR_CONFIGSTORE_MISSING_ENTITY']);
    const protoLa = await call(url, 'PUT', '/users/uu/linkedaccounts/__proto__', {});
    expect(protoLa.status).toBe(400);
    const user = await client.getUser('uu');
    expect(Object.keys(user.tokens ?? {})).toEqual(['ci']);
    expect(Object.keys(user.linked_accounts ?? {})).toHaveLength(1);

    // secret data keys are plain keys; a __proto__ key is refused with a 400
    await client.createOrg({ Name: 'acme', Visibility: 'public' });
    const data = { constructor: 'c', toString: 't', hasOwnProperty: 'h' };
    const created = await call(url, 'POST', '/projectgroups/org%2Facme/secrets', {
      Name: 's1',
      Type: 'internal',
      Data: data,
    });
    expect([created.status, created.body?.['data']]).toEqual([201, data]);
    const protoData = await call(
      url,
      'POST',
      '/projectgroups/org%2Facme/secrets',
      '{"Name":"s2","Type":"internal","Data":{"__proto__":{"x":"y"},"k":"v"}}',
    );
    expect(protoData.status).toBe(400);
  });

  it('answers deep bodies and bad variable conditions with clear 400s', async () => {
    const { url, client } = await startFresh();
    await client.createOrg({ Name: 'acme', Visibility: 'public' });
    const deep = await call(
      url,
      'POST',
      '/users',
      `{"user_name":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    );
    expect([deep.status, deep.body?.['code']]).toEqual([400, 'ERR_SERVICE_BODY_TOO_DEEP']);

    const variable = (when: unknown) =>
      call(url, 'POST', '/projectgroups/org%2Facme/variables', {
        Name: 'vv',
        Values: [{ secret_name: 's', secret_var: 'k', when }],
      });
    const bad: [unknown, string][] = [
      ['master', 'Values[0].when must be an object'],
      [{ branch: 3 }, 'Values[0].when.branch must be a string or an object {type, match}'],
      [{ branch: '' }, 'Values[0].when.branch must be a non-empty string'],
      [
        { tag: ['v1', ['v2']] },
        'Values[0].when.tag[1] must be a string or an object {type, match}',
      ],
      [
        { ref: { exclude: [{ type: 'glob', match: 'x' }] } },
        'Values[0].when.ref.exclude[0].type must be "simple" or "regexp"',
      ],
      [
        { ref: { include: [{ type: 'simple', match: '' }] } },
        'Values[0].when.ref.include[0].match must be a non-empty string',
      ],
      [{ branches: {} }, 'Values[0].when: unknown key "branches" (known keys: branch, tag, ref)'],
      [
        { branch: { include: [], excludes: [] } },
        'Values[0].when.branch: unknown key "excludes" (known keys: include, exclude)',
      ],
      [
        { branch: { include: [{ type: 'regexp', match: '^(?=a)' }] } },
        'Values[0].when.branch.include[0].match: backreferences and lookarounds are not supported',
      ],
      [
        { branch: Array.from({ length: 101 }, () => 'x') },
        'Values[0].when.branch has more than 100 conditions',
      ],
    ];
    for (const [when, message] of bad) {
      const r = await variable(when);
      expect([r.status, r.body?.['code'], r.body?.['message']], JSON.stringify(when)).toEqual([
        400,
        'ERR_CONFIGSTORE_INVALID_REQUEST',
        message,
      ]);
    }
    for (const [when, path] of [
      [{ branch: { include: [{ type: 'regexp', match: '(' }] } }, 'branch.include[0].match'],
      [{ tag: '/v[/' }, 'tag'],
      [{ ref: { exclude: ['main', '#(#'] } }, 'ref.exclude[1]'],
    ] as const) {
      const r = await variable(when);
      expect(r.status).toBe(400);
      expect(r.body?.['message']).toMatch(
        new RegExp(
          `^Values\\[0\\]\\.when\\.${path.replace(/[.[\]]/g, '\\$&')} is not a valid regular expression: `,
        ),
      );
    }
    // both forms Agola knows: the run config's and the decoded one
    const good = {
      branch: {
        include: [{ type: 'simple', match: 'master' }],
        exclude: [{ type: 'regexp', match: '(?i)^wip/' }],
      },
      tag: ['v1', '/^v2\\./'],
      ref: { include: '#^refs/pull/#' },
    };
    const ok = await variable(good);
    expect(ok.status).toBe(201);
    expect(ok.body?.['values']).toEqual([{ secret_name: 's', secret_var: 'k', when: good }]);
  });

  it('keeps the readdb 0600 in a 0700 dir, and tightens an existing one', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'cs-modes-'));
    stops.push(() => rm(parent, { recursive: true, force: true }));
    const inst = await newInstallation();
    const fresh = join(parent, 'fresh');
    const a = await startInstance(inst, fresh);
    await a.client.createUser({ user_name: 'alice' });
    expect(await mode(fresh)).toBe(0o700);
    for (const suffix of ['', '-wal', '-shm']) {
      const file = join(fresh, READDB_FILE + suffix);
      const exists = await stat(file).then(
        () => true,
        () => false,
      );
      if (suffix === '') expect(exists).toBe(true);
      if (exists) expect(await mode(file)).toBe(0o600);
    }
    await a.cs.stop();

    const old = join(parent, 'old');
    await mkdir(old, { mode: 0o755 });
    await writeFile(join(old, READDB_FILE), '', { mode: 0o644 });
    const b = await startInstance(inst, old);
    expect((await b.client.getUser('alice')).name).toBe('alice');
    expect(await mode(old)).toBe(0o700);
    expect(await mode(join(old, READDB_FILE))).toBe(0o600);
  });

  it('never logs a token or secret value, even at trace level', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const inst = await newInstallation();
    const dataDir = await mkdtemp(join(tmpdir(), 'cs-trace-'));
    const cs: Configstore = createConfigstore(
      {
        dataDir,
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: inst.ostConfig,
      },
      { etcd: inst.etcd, ...(inst.ost ? { ost: inst.ost } : {}), retryMs: 100, logger },
    );
    await cs.start();
    stops.push(async () => {
      await cs.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    const url = cs.url!;
    const secrets: string[] = [];
    await call(url, 'POST', '/remotesources', giteaSource('gitea'));
    const laToken = 'la-access-t0ken-9f8e7d';
    secrets.push(laToken);
    await call(url, 'POST', '/users', {
      user_name: 'alice',
      create_user_la_request: {
        remote_source_name: 'gitea',
        remote_user_id: '1',
        user_access_token: laToken,
      },
    });
    const token = (await call(url, 'POST', '/users/alice/tokens', { token_name: 'ci' })).body?.[
      'token'
    ] as string;
    secrets.push(token);
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    await call(url, 'POST', '/orgs', { Name: 'acme', Visibility: 'public' });
    const secretValue = 'p4ssw0rd-of-the-deploy-key';
    secrets.push(secretValue);
    await call(url, 'POST', '/projectgroups/org%2Facme/secrets', {
      Name: 'creds',
      Type: 'internal',
      Data: { password: secretValue },
    });
    // 200, 404, 400 and 405 answers with token values in the query
    expect((await call(url, 'GET', `/users?query_type=bytoken&token=${token}`)).status).toBe(200);
    const unknownToken = 'unkn0wn-t0ken-value-1234';
    secrets.push(unknownToken);
    expect((await call(url, 'GET', `/users?query_type=bytoken&token=${unknownToken}`)).status).toBe(
      404,
    );
    expect((await call(url, 'GET', `/users?query_type=nope&token=${token}`)).status).toBe(400);
    expect((await call(url, 'PATCH', `/users/alice?token=${token}`)).status).toBe(405);
    expect((await call(url, 'GET', `/nope?token=${token}`)).status).toBe(404);
    expect(
      (await call(url, 'GET', `/projectgroups/org%2Facme/secrets?token=${token}`)).status,
    ).toBe(200);
    expect((await call(url, 'GET', `/users/${'x'.repeat(3000)}?token=${token}`)).status).toBe(414);
    // a request node refuses (headers too large), with the token in its URL
    const refused = await new Promise<string>((resolve, reject) => {
      const socket = connect(cs.port!, '127.0.0.1', () => {
        socket.write(
          `GET /api/v1alpha/users?token=${token} HTTP/1.1\r\nHost: x\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`,
        );
      });
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(refused).toMatch(/^HTTP\/1\.1 431 /);

    const log = lines.join('');
    // the run did log (debug lines too), with the masked query
    expect(lines.length).toBeGreaterThan(20);
    expect(log).toContain('"level":20');
    expect(log).toContain('query_type=…&token=…');
    for (const s of secrets) expect(log).not.toContain(s);
  });
});

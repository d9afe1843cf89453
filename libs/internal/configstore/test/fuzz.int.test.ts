import { describe, expect, it } from 'vitest';
import { giteaSource, startFresh } from './helpers.js';

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FIELDS = [
  'user_name',
  'create_user_la_request',
  'remote_source_name',
  'remote_user_id',
  'oauth_2_access_token_expires_at',
  'token_name',
  'Name',
  'Visibility',
  'CreatorUserID',
  'Role',
  'APIURL',
  'Type',
  'AuthType',
  'Oauth2ClientID',
  'Oauth2ClientSecret',
  'SkipVerify',
  'LoginEnabled',
  'Parent',
  'type',
  'id',
  'RemoteRepositoryConfigType',
  'RemoteSourceID',
  'LinkedAccountID',
  'RepositoryID',
  'RepositoryPath',
  'SkipSSHHostKeyCheck',
  'Data',
  'Values',
  'secret_name',
  'secret_var',
  'when',
];

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 2 ? 6 : 8));
  const strings = [
    '',
    'a',
    'ab',
    'alice',
    '-x',
    'public',
    'owner',
    'gitea',
    'oauth2',
    'org/acme',
    'org/acme/grp',
    'projectgroup',
    'remotesource',
    'internal',
    'é/..',
    'x'.repeat(300),
  ];
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 2000) - 1000;
    case 3:
    case 4:
    case 5:
      return strings[Math.floor(rand() * strings.length)];
    case 6:
      return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) {
        o[FIELDS[Math.floor(rand() * FIELDS.length)]!] = randomValue(rand, depth + 1);
      }
      return o;
    }
  }
}

const MALFORMED = [
  '',
  '{',
  '{"user_name":',
  'null',
  '[]',
  '"str"',
  '42',
  '{"a":1}}',
  '\u0000',
  'nul',
];

const REFS = [
  'nobody',
  '%2F',
  'a%2Fb',
  '%00',
  '%E2%82%AC',
  'x'.repeat(500),
  '2d0ad1a8-1e08-4a67-a1b9-1ad8c5b0a3e4',
  '2D0AD1A8-1E08-4A67-A1B9-1AD8C5B0A3E4',
  '%25',
  '%ZZ',
];

describe('configstore fuzz', () => {
  it('answers malformed bodies and refs with 4xx, never 500', async () => {
    const { client, url } = await startFresh();
    await client.createRemoteSource(giteaSource('gitea'));
    await client.createUser({ user_name: 'alice' });
    await client.createOrg({ Name: 'acme', Visibility: 'public' });
    await client.createProjectGroup({
      Name: 'grp',
      Parent: { type: 'projectgroup', id: 'org/acme' },
      Visibility: 'public',
    });

    const routes: [string, (ref: string) => string][] = [
      ['POST', () => '/users'],
      ['PUT', (r) => `/users/${r}`],
      ['POST', (r) => `/users/${r}/linkedaccounts`],
      ['PUT', (r) => `/users/${r}/linkedaccounts/${r}`],
      ['POST', (r) => `/users/${r}/tokens`],
      ['POST', () => '/orgs'],
      ['PUT', (r) => `/orgs/${r}/members/${r}`],
      ['POST', () => '/remotesources'],
      ['PUT', (r) => `/remotesources/${r}`],
      ['POST', () => '/projectgroups'],
      ['PUT', (r) => `/projectgroups/${r}`],
      ['POST', () => '/projects'],
      ['PUT', (r) => `/projects/${r}`],
      ['POST', (r) => `/projectgroups/${r}/secrets`],
      ['PUT', (r) => `/projects/${r}/secrets/${r}`],
      ['POST', (r) => `/projects/${r}/variables`],
      ['PUT', (r) => `/projectgroups/${r}/variables/${r}`],
    ];
    const refsFor = ['alice', 'acme', 'gitea', 'org%2Facme', 'org%2Facme%2Fgrp', ...REFS];
    const rand = prng(6);
    const statuses: number[] = [];
    const send = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${url}${path}`, {
        method,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      });
      await res.text();
      statuses.push(res.status);
      if (res.status >= 500) throw new Error(`${method} ${path} ${body ?? ''} -> ${res.status}`);
      return res.status;
    };

    // malformed JSON: always a 4xx
    for (const [method, path] of routes) {
      for (const body of MALFORMED) {
        const status = await send(method, path('alice'), body);
        expect(status, `${method} ${path('alice')} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(
          400,
        );
      }
    }
    // random JSON shapes on random refs: never a 5xx
    for (let i = 0; i < 500; i++) {
      const [method, path] = routes[Math.floor(rand() * routes.length)]!;
      const ref = refsFor[Math.floor(rand() * refsFor.length)]!;
      await send(method, path(ref), JSON.stringify(randomValue(rand)));
    }
    // odd refs on every GET and DELETE route: 4xx
    for (const ref of REFS) {
      for (const path of [
        `/users/${ref}`,
        `/users/${ref}/orgs`,
        `/orgs/${ref}`,
        `/orgs/${ref}/members`,
        `/remotesources/${ref}`,
      ]) {
        expect(await send('GET', path)).toBeGreaterThanOrEqual(400);
        expect(await send('DELETE', path.replace(/\/(orgs|members)$/, ''))).toBeGreaterThanOrEqual(
          400,
        );
      }
      expect(await send('DELETE', `/users/alice/tokens/${ref}`)).toBeGreaterThanOrEqual(400);
      for (const path of [`/projectgroups/${ref}`, `/projects/${ref}`]) {
        expect(await send('GET', path)).toBeGreaterThanOrEqual(400);
        expect(await send('DELETE', path)).toBeGreaterThanOrEqual(400);
        expect(await send('GET', `${path}/secrets?tree`)).toBeGreaterThanOrEqual(400);
        expect(await send('GET', `${path}/variables`)).toBeGreaterThanOrEqual(400);
        expect(await send('DELETE', `${path}/secrets/${ref}`)).toBeGreaterThanOrEqual(400);
        expect(await send('DELETE', `${path}/variables/${ref}`)).toBeGreaterThanOrEqual(400);
      }
      expect(await send('GET', `/projectgroups/${ref}/subgroups`)).toBeGreaterThanOrEqual(400);
      expect(await send('GET', `/projectgroups/${ref}/projects`)).toBeGreaterThanOrEqual(400);
      expect(await send('GET', `/users?limit=${ref}`)).toBeGreaterThanOrEqual(400);
    }
    expect(statuses.every((s) => s < 500)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { eventually, startFresh } from './helpers.js';

// Ids chosen so that, inside each type, the entries are in id order (as an export is).
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const RS_GITEA = id(1);
const RS_GITHUB = id(2);
const ALICE = id(11);
const BOB = id(12);
const ALICE_LA = id(13);
const ACME = id(21);
const ZERO = id(22);
const M_ALICE = id(31);
const M_BOB = id(32);
const PG_ALICE = id(41);
const PG_BOB = id(42);
const PG_ACME = id(43);
const PG_ZERO = id(44);
const PG_TEAM = id(45);
const PG_WEB = id(46);
const APP = id(51);
const SECRET = id(61);
const VARIABLE = id(71);
const TOKEN = '8c2a3bb9d0e7f5a1b4c6d8e0f2a4b6c8d0e2f4a6';
const LA_TOKEN = 'la-token-3f9a1c';
const SECRET_VALUE = 's3cr3t-deploy-password';

/**
 * Entities exactly as Agola v0.7 writes them (Go's encoding/json: struct field order, empty
 * fields omitted, map keys sorted, times always written, zero time included): root project
 * groups without `name`, a remote source without `registration_enabled`/`login_enabled`, an
 * org without creator and with a zero `created_at`.
 */
const ENTITIES: [string, string, string][] = [
  [
    'user',
    ALICE,
    `{"id":"${ALICE}","name":"alice","secret":"0b8c1e7e4a1f3d5c7e9a1b3d5f7a9c1e3b5d7f9a","linked_accounts":{"${ALICE_LA}":{"id":"${ALICE_LA}","remote_user_id":"1","remote_username":"alice","remote_source_id":"${RS_GITEA}","user_access_token":"${LA_TOKEN}","oauth_2_access_token_expires_at":"0001-01-01T00:00:00Z"}},"tokens":{"ci":"${TOKEN}"},"admin":true}`,
  ],
  ['user', BOB, `{"id":"${BOB}","name":"bob","secret":"1c9d2f8f5b2a4e6d8f0b2c4e6a8b0d2f4c6e8a0b"}`],
  [
    'org',
    ACME,
    `{"id":"${ACME}","name":"acme","visibility":"public","creator_user_id":"${ALICE}","created_at":"2021-03-04T05:06:07.123456789Z"}`,
  ],
  [
    'org',
    ZERO,
    `{"id":"${ZERO}","name":"zero","visibility":"private","created_at":"0001-01-01T00:00:00Z"}`,
  ],
  [
    'orgmember',
    M_ALICE,
    `{"id":"${M_ALICE}","organization_id":"${ACME}","user_id":"${ALICE}","member_role":"owner"}`,
  ],
  [
    'orgmember',
    M_BOB,
    `{"id":"${M_BOB}","organization_id":"${ACME}","user_id":"${BOB}","member_role":"member"}`,
  ],
  [
    'projectgroup',
    PG_ALICE,
    `{"id":"${PG_ALICE}","parent":{"type":"user","id":"${ALICE}"},"visibility":"public"}`,
  ],
  [
    'projectgroup',
    PG_BOB,
    `{"id":"${PG_BOB}","parent":{"type":"user","id":"${BOB}"},"visibility":"public"}`,
  ],
  [
    'projectgroup',
    PG_ACME,
    `{"id":"${PG_ACME}","parent":{"type":"org","id":"${ACME}"},"visibility":"public"}`,
  ],
  [
    'projectgroup',
    PG_ZERO,
    `{"id":"${PG_ZERO}","parent":{"type":"org","id":"${ZERO}"},"visibility":"private"}`,
  ],
  [
    'projectgroup',
    PG_TEAM,
    `{"id":"${PG_TEAM}","name":"team","parent":{"type":"projectgroup","id":"${PG_ACME}"},"visibility":"public"}`,
  ],
  [
    'projectgroup',
    PG_WEB,
    `{"id":"${PG_WEB}","name":"web","parent":{"type":"projectgroup","id":"${PG_TEAM}"},"visibility":"private"}`,
  ],
  [
    'project',
    APP,
    `{"id":"${APP}","name":"app","secret":"2d0e3a9a6c3b5f7e9a1c3d5f7b9c1e3a5d7f9b1c","parent":{"type":"projectgroup","id":"${PG_WEB}"},"visibility":"public","remote_repository_config_type":"remotesource","remote_source_id":"${RS_GITEA}","linked_account_id":"${ALICE_LA}","repository_id":"10","repository_path":"acme/app","webhook_secret":"3e1f4b0b7d4c6a8f0b2d4e6a8c0d2f4b6e8a0c2d"}`,
  ],
  [
    'remotesource',
    RS_GITEA,
    `{"id":"${RS_GITEA}","name":"gitea","apiurl":"https://gitea.example.com","type":"gitea","auth_type":"password"}`,
  ],
  [
    'remotesource',
    RS_GITHUB,
    `{"id":"${RS_GITHUB}","name":"github","apiurl":"https://api.github.com","type":"github","auth_type":"oauth2","client_id":"cid","client_secret":"csecret","registration_enabled":false,"login_enabled":true}`,
  ],
  [
    'secret',
    SECRET,
    `{"id":"${SECRET}","name":"creds","parent":{"type":"projectgroup","id":"${PG_TEAM}"},"type":"internal","data":{"password":"${SECRET_VALUE}","user":"deploy"}}`,
  ],
  [
    'variable',
    VARIABLE,
    `{"id":"${VARIABLE}","name":"deploypass","parent":{"type":"project","id":"${APP}"},"values":[{"secret_name":"creds","secret_var":"password","when":{"branch":{"include":[{"type":"simple","match":"master"}]},"ref":{"exclude":[{"type":"regexp","match":"^refs/pull/.*"}]}}}]}`,
  ],
];

/** Agola's export stream: the data entries, `json.Marshal`ed back to back (no separator). */
const EXPORT = ENTITIES.map(([type, entityId, data]) =>
  JSON.stringify({ id: entityId, data_type: type, data: Buffer.from(data).toString('base64') }),
).join('');

const entity = (entityId: string): Record<string, unknown> => {
  const found = ENTITIES.find(([, i]) => i === entityId);
  if (!found) throw new Error(`no entity ${entityId}`);
  return JSON.parse(found[2]) as Record<string, unknown>;
};

/** The entries of an export stream (objects back to back, with or without whitespace). */
function entries(stream: string): { id: string; data_type: string; data: string }[] {
  const out: { id: string; data_type: string; data: string }[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stream.length; i++) {
    const c = stream[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) {
      const e = JSON.parse(stream.slice(start, i + 1)) as {
        id: string;
        data_type: string;
        data: string;
      };
      out.push({ ...e, data: Buffer.from(e.data, 'base64').toString('utf8') });
    }
  }
  return out;
}

describe('importing an Agola v0.7 export', () => {
  it('serves every entity as Agola does and exports it back unchanged', async () => {
    const { url } = await startFresh();
    expect((await fetch(`${url}/maintenance`, { method: 'PUT' })).status).toBe(200);
    const imported = await eventually(async () => {
      const res = await fetch(`${url}/import`, { method: 'POST', body: EXPORT });
      if ([400, 404, 503].includes(res.status)) throw new Error('not in maintenance yet');
      return res;
    });
    expect(imported.status).toBe(204);
    expect((await fetch(`${url}/maintenance`, { method: 'DELETE' })).status).toBe(200);

    const get = async (path: string): Promise<unknown> => {
      const res = await fetch(`${url}${path}`);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    // the readdb follows the imported data: the service serves again
    await eventually(() => get('/users/alice'), 30_000);

    // users, their tokens and linked accounts
    const alice = entity(ALICE);
    const bob = entity(BOB);
    expect(await get('/users/alice')).toEqual(alice);
    expect(await get(`/users/${BOB}`)).toEqual(bob);
    expect(await get('/users?asc')).toEqual([alice, bob]);
    expect(await get(`/users?query_type=bytoken&token=${TOKEN}`)).toEqual([alice]);
    expect(await get(`/users?query_type=bylinkedaccount&linkedaccountid=${ALICE_LA}`)).toEqual([
      alice,
    ]);
    expect(
      await get(`/users?query_type=byremoteuser&remoteuserid=1&remotesourceid=${RS_GITEA}`),
    ).toEqual([alice]);

    // orgs (one with a zero creation time and no creator) and members
    const acme = entity(ACME);
    expect(await get('/orgs/acme')).toEqual(acme);
    expect(await get('/orgs?asc')).toEqual([acme, entity(ZERO)]);
    expect(await get('/orgs/acme/members')).toEqual([
      { User: alice, Role: 'owner' },
      { User: bob, Role: 'member' },
    ]);
    expect(await get('/users/bob/orgs')).toEqual([{ Organization: acme, Role: 'member' }]);

    // remote sources: Agola's decoder fills the missing flags with true
    expect(await get('/remotesources/gitea')).toEqual({
      ...entity(RS_GITEA),
      registration_enabled: true,
      login_enabled: true,
    });
    expect(await get('/remotesources/github')).toEqual(entity(RS_GITHUB));

    // root groups (no name): path and parent path are the owner's
    const aliceRoot = {
      ...entity(PG_ALICE),
      OwnerType: 'user',
      OwnerID: ALICE,
      Path: 'user/alice',
      ParentPath: 'user/alice',
      GlobalVisibility: 'public',
    };
    expect(await get('/projectgroups/user%2Falice')).toEqual(aliceRoot);
    expect(await get(`/projectgroups/${PG_ALICE}`)).toEqual(aliceRoot);
    expect(await get('/projectgroups/org%2Fzero')).toEqual({
      ...entity(PG_ZERO),
      OwnerType: 'org',
      OwnerID: ZERO,
      Path: 'org/zero',
      ParentPath: 'org/zero',
      GlobalVisibility: 'private',
    });
    const team = {
      ...entity(PG_TEAM),
      OwnerType: 'org',
      OwnerID: ACME,
      Path: 'org/acme/team',
      ParentPath: 'org/acme',
      GlobalVisibility: 'public',
    };
    expect(await get('/projectgroups/org%2Facme%2Fteam')).toEqual(team);
    expect(await get('/projectgroups/org%2Facme/subgroups')).toEqual([team]);
    const web = {
      ...entity(PG_WEB),
      OwnerType: 'org',
      OwnerID: ACME,
      Path: 'org/acme/team/web',
      ParentPath: 'org/acme/team',
      GlobalVisibility: 'private',
    };
    expect(await get(`/projectgroups/${PG_WEB}`)).toEqual(web);

    // the project (private through its group), its secrets and variables
    const app = {
      ...entity(APP),
      OwnerType: 'org',
      OwnerID: ACME,
      Path: 'org/acme/team/web/app',
      ParentPath: 'org/acme/team/web',
      GlobalVisibility: 'private',
    };
    expect(await get('/projects/org%2Facme%2Fteam%2Fweb%2Fapp')).toEqual(app);
    expect(await get('/projectgroups/org%2Facme%2Fteam%2Fweb/projects')).toEqual([app]);
    expect(await get(`/projects/${APP}/secrets?tree`)).toEqual([
      { ...entity(SECRET), ParentPath: 'org/acme/team' },
    ]);
    expect(await get(`/projects/${APP}/variables`)).toEqual([
      { ...entity(VARIABLE), ParentPath: 'org/acme/team/web/app' },
    ]);

    // a re-export holds exactly the imported entries, in the same order, data byte for byte
    const exported = await (await fetch(`${url}/export`)).text();
    expect(entries(exported)).toEqual(entries(EXPORT));

    // and the imported data takes writes: a group under a root group without a name
    const res = await fetch(`${url}/projectgroups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        Name: 'tools',
        Parent: { type: 'projectgroup', id: 'user/alice' },
        Visibility: 'public',
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ Path: 'user/alice/tools', ParentPath: 'user/alice' });
  });
});

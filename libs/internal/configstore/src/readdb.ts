import type { Action, SinkTransaction } from '@agola-ts/datamanager';
import type { SqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { migrate, type Db, type Tx } from '@agola-ts/db';
import type {
  Org,
  OrgMember,
  Project,
  ProjectGroup,
  RemoteSource,
  Secret,
  User,
  Variable,
} from '@agola-ts/types';

/** The data types of the configstore, in Agola's export order. */
export const DATA_TYPES = [
  'user',
  'org',
  'orgmember',
  'projectgroup',
  'project',
  'remotesource',
  'secret',
  'variable',
] as const;

/**
 * The readdb tables (Agola's, §5.1, for the entities of this service so far): every table keeps
 * the entity JSON in `data` plus the columns lookups need. Names are not unique here: the
 * datamanager is the source of truth and the readdb only mirrors it.
 */
const SCHEMA_V1 = `
create table user (id text primary key, name text not null, data text not null);
create index user_name on user (name);
create table user_token (tokenvalue text not null, userid text not null, tokenname text not null, primary key (tokenvalue, userid));
create index user_token_userid on user_token (userid);
create table linkedaccount_user (id text primary key, remotesourceid text not null, userid text not null, remoteuserid text not null);
create index linkedaccount_user_userid on linkedaccount_user (userid);
create index linkedaccount_user_remote on linkedaccount_user (remotesourceid, remoteuserid);
create table org (id text primary key, name text not null, data text not null);
create index org_name on org (name);
create table orgmember (id text primary key, orgid text not null, userid text not null, role text not null, data text not null);
create index orgmember_orgid_userid on orgmember (orgid, userid);
create index orgmember_userid on orgmember (userid);
create table projectgroup (id text primary key, name text not null, parentid text not null, parenttype text not null, data text not null);
create index projectgroup_parent on projectgroup (parentid, name);
create table remotesource (id text primary key, name text not null, data text not null);
create index remotesource_name on remotesource (name);
`;

/** Projects, secrets and variables. */
const SCHEMA_V2 = `
create table project (id text primary key, name text not null, parentid text not null, data text not null);
create index project_parent on project (parentid, name);
create table secret (id text primary key, name text not null, parentid text not null, data text not null);
create index secret_parent on secret (parentid, name);
create table variable (id text primary key, name text not null, parentid text not null, data text not null);
create index variable_parent on variable (parentid, name);
`;

const TABLES = [
  'user',
  'user_token',
  'linkedaccount_user',
  'org',
  'orgmember',
  'projectgroup',
  'remotesource',
  'project',
  'secret',
  'variable',
];

/** Creates or upgrades the readdb tables. */
export async function migrateReadDb(db: Db): Promise<void> {
  await migrate(db, [
    { version: 1, up: SCHEMA_V1, description: 'users, orgs, remote sources' },
    { version: 2, up: SCHEMA_V2, description: 'projects, secrets, variables' },
  ]);
}

/** Empties every table (before a full resync). */
export async function resetReadDb(tx: Tx): Promise<void> {
  for (const t of TABLES) await tx.exec(`delete from ${t}`, [], { name: `reset ${t}` });
}

/** The JSON object of an entity (an empty one for anything else: the readdb never chokes). */
function entityFields(json: string): Record<string, unknown> {
  const v: unknown = JSON.parse(json);
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

/** A string field, or '' when Agola omitted it (omitempty) or it is not a string. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** An object field, or an empty object. */
function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

/**
 * Applies one datamanager action to the tables. Entities are read as Agola writes them: every
 * field may be absent (Go's omitempty drops empty strings, false, empty maps; a root project
 * group has no `name`), so a missing column value is the empty string. Types of later slices
 * are ignored.
 */
export async function applyAction(tx: Tx, a: Action & { data: Buffer }): Promise<void> {
  const put = a.actionType === 'put';
  const json = put ? a.data.toString('utf8') : '';
  const e = put ? entityFields(json) : {};
  const parent = record(e['parent']);
  switch (a.dataType) {
    case 'user': {
      await tx.exec('delete from user where id = ?', [a.id]);
      await tx.exec('delete from user_token where userid = ?', [a.id]);
      await tx.exec('delete from linkedaccount_user where userid = ?', [a.id]);
      if (!put) return;
      await tx.exec('insert into user (id, name, data) values (?, ?, ?)', [
        a.id,
        text(e['name']),
        json,
      ]);
      for (const [name, value] of Object.entries(record(e['tokens']))) {
        await tx.exec(
          'insert or replace into user_token (tokenvalue, userid, tokenname) values (?, ?, ?)',
          [text(value), a.id, name],
        );
      }
      for (const [laId, raw] of Object.entries(record(e['linked_accounts']))) {
        const la = record(raw);
        await tx.exec(
          'insert or replace into linkedaccount_user (id, remotesourceid, userid, remoteuserid) values (?, ?, ?, ?)',
          [text(la['id']) || laId, text(la['remote_source_id']), a.id, text(la['remote_user_id'])],
        );
      }
      return;
    }
    case 'org': {
      await tx.exec('delete from org where id = ?', [a.id]);
      if (!put) return;
      await tx.exec('insert into org (id, name, data) values (?, ?, ?)', [
        a.id,
        text(e['name']),
        json,
      ]);
      return;
    }
    case 'orgmember': {
      await tx.exec('delete from orgmember where id = ?', [a.id]);
      if (!put) return;
      await tx.exec(
        'insert into orgmember (id, orgid, userid, role, data) values (?, ?, ?, ?, ?)',
        [a.id, text(e['organization_id']), text(e['user_id']), text(e['member_role']), json],
      );
      return;
    }
    case 'projectgroup': {
      await tx.exec('delete from projectgroup where id = ?', [a.id]);
      if (!put) return;
      await tx.exec(
        'insert into projectgroup (id, name, parentid, parenttype, data) values (?, ?, ?, ?, ?)',
        [a.id, text(e['name']), text(parent['id']), text(parent['type']), json],
      );
      return;
    }
    case 'remotesource': {
      await tx.exec('delete from remotesource where id = ?', [a.id]);
      if (!put) return;
      await tx.exec('insert into remotesource (id, name, data) values (?, ?, ?)', [
        a.id,
        text(e['name']),
        json,
      ]);
      return;
    }
    case 'project':
    case 'secret':
    case 'variable': {
      // the three tables have the same columns: id, name, parentid, data
      await tx.exec(`delete from ${a.dataType} where id = ?`, [a.id]);
      if (!put) return;
      await tx.exec(`insert into ${a.dataType} (id, name, parentid, data) values (?, ?, ?, ?)`, [
        a.id,
        text(e['name']),
        text(parent['id']),
        json,
      ]);
      return;
    }
    default:
      return;
  }
}

/** A put's entity, decoded. */
interface Decoded {
  json: string;
  e: Record<string, unknown>;
}

/** Puts decoded by {@link decodingSink} before they were gathered, by their data buffer. */
const decodedPuts = new WeakMap<Buffer, Decoded>();

/** Decodes a put (throws on unreadable JSON, as applyAction does); reuses the sink's decoding. */
function decodePut(data: Buffer): Decoded {
  const d = decodedPuts.get(data);
  if (d) {
    decodedPuts.delete(data);
    return d;
  }
  const json = data.toString('utf8');
  return { json, e: entityFields(json) };
}

/**
 * Wraps the sqlite sink given {@link applyActions}: each action and snapshot entry is decoded
 * as it arrives, so an unreadable one fails in the sink's `applyAction` / `applyEntry` call and
 * the follower names it (`ERR_DATAMANAGER_SINK_APPLY`), as when actions are applied one at a
 * time; the batch reuses the decoding.
 */
export function decodingSink(sink: SqliteSink): SqliteSink {
  const remember = (data: Buffer) => {
    const json = data.toString('utf8');
    decodedPuts.set(data, { json, e: entityFields(json) });
  };
  return {
    ...sink,
    transaction: (fn) =>
      sink.transaction((tx) => {
        const wrapped: SinkTransaction = {
          reset: () => tx.reset(),
          applyEntry: async (entry) => {
            remember(entry.data);
            await tx.applyEntry(entry);
          },
          applyAction: async (action, walSequence) => {
            if (action.actionType === 'put') remember(action.data);
            await tx.applyAction(action, walSequence);
          },
          replaceChangeGroups: (g) => tx.replaceChangeGroups(g),
          setChangeGroup: (n, r) => tx.setChangeGroup(n, r),
          setPosition: (p) => tx.setPosition(p),
        };
        return fn(wrapped);
      }),
  };
}

/** Ids per `delete ... where id in (...)` statement (well under sqlite's variable limit). */
const IDS_PER_DELETE = 500;

/** Deletes the rows whose `column` is one of `ids`, in statements of a few hundred ids. */
async function deleteIn(tx: Tx, table: string, column: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += IDS_PER_DELETE) {
    const chunk = ids.slice(i, i + IDS_PER_DELETE);
    await tx.exec(
      `delete from ${table} where ${column} in (${chunk.map(() => '?').join(',')})`,
      chunk,
      { name: `batch delete ${table}` },
    );
  }
}

/**
 * Cuts a batch into runs in which no entry (data type and id) appears twice: within such a
 * run, deleting every touched entry's rows first and then inserting the puts in order gives
 * the rows that applying the actions one at a time gives (a user's linked accounts are
 * `insert or replace`d in order, so one taken from another user stays taken).
 */
export function distinctRuns<A extends Action>(actions: readonly A[]): A[][] {
  const runs: A[][] = [];
  let current: A[] = [];
  let seen = new Set<string>();
  for (const a of actions) {
    const key = `${a.dataType}\u0000${a.id}`;
    if (seen.has(key)) {
      runs.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(key);
    current.push(a);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/**
 * Applies several datamanager actions, in order: the same rows as {@link applyAction} for
 * each in turn, with one multi-row delete and one multi-row insert per table (`tx.insertMany`)
 * for each run of distinct entries (see {@link distinctRuns}). The sqlite sink's fast path.
 */
export async function applyActions(
  tx: Tx,
  actions: readonly (Action & { data: Buffer })[],
): Promise<void> {
  for (const run of distinctRuns(actions)) await applyDistinct(tx, run);
}

type Values = (string | number)[];

async function applyDistinct(tx: Tx, actions: readonly (Action & { data: Buffer })[]) {
  const touched = new Map<string, string[]>();
  const rows = new Map<string, Values[]>();
  const touch = (table: string, id: string) => {
    const ids = touched.get(table);
    if (ids) ids.push(id);
    else touched.set(table, [id]);
  };
  const add = (table: string, row: Values) => {
    const list = rows.get(table);
    if (list) list.push(row);
    else rows.set(table, [row]);
  };
  for (const a of actions) {
    const put = a.actionType === 'put';
    // parsed before the type is checked, as applyAction does (an unreadable put fails either way)
    const { json, e } = put ? decodePut(a.data) : { json: '', e: {} };
    if (!(DATA_TYPES as readonly string[]).includes(a.dataType)) continue;
    touch(a.dataType, a.id);
    if (!put) continue;
    const parent = record(e['parent']);
    switch (a.dataType) {
      case 'user': {
        add('user', [a.id, text(e['name']), json]);
        for (const [name, value] of Object.entries(record(e['tokens']))) {
          add('user_token', [text(value), a.id, name]);
        }
        for (const [laId, raw] of Object.entries(record(e['linked_accounts']))) {
          const la = record(raw);
          add('linkedaccount_user', [
            text(la['id']) || laId,
            text(la['remote_source_id']),
            a.id,
            text(la['remote_user_id']),
          ]);
        }
        break;
      }
      case 'org':
      case 'remotesource':
        add(a.dataType, [a.id, text(e['name']), json]);
        break;
      case 'orgmember':
        add('orgmember', [
          a.id,
          text(e['organization_id']),
          text(e['user_id']),
          text(e['member_role']),
          json,
        ]);
        break;
      case 'projectgroup':
        add('projectgroup', [
          a.id,
          text(e['name']),
          text(parent['id']),
          text(parent['type']),
          json,
        ]);
        break;
      default: // project, secret, variable
        add(a.dataType, [a.id, text(e['name']), text(parent['id']), json]);
    }
  }
  for (const [table, ids] of touched) {
    await deleteIn(tx, table, 'id', ids);
    if (table === 'user') {
      await deleteIn(tx, 'user_token', 'userid', ids);
      await deleteIn(tx, 'linkedaccount_user', 'userid', ids);
    }
  }
  for (const [table, list] of rows) {
    await tx.insertMany(`insert or replace into ${table} (${BATCH_COLUMNS[table] ?? ''})`, list, {
      name: `batch insert ${table}`,
    });
  }
}

/** The columns of the multi-row inserts, per table. */
const BATCH_COLUMNS: Record<string, string> = {
  user: 'id, name, data',
  user_token: 'tokenvalue, userid, tokenname',
  linkedaccount_user: 'id, remotesourceid, userid, remoteuserid',
  org: 'id, name, data',
  orgmember: 'id, orgid, userid, role, data',
  projectgroup: 'id, name, parentid, parenttype, data',
  remotesource: 'id, name, data',
  project: 'id, name, parentid, data',
  secret: 'id, name, parentid, data',
  variable: 'id, name, parentid, data',
};

/** An entity as stored. */
function parse<T>(json: string): T {
  return JSON.parse(json) as T;
}

/**
 * A remote source as Agola's decoder reads it: without `registration_enabled` or
 * `login_enabled`, they are true (Agola's `RemoteSource.UnmarshalJSON`).
 */
function decodeRemoteSource(json: string): RemoteSource {
  const rs = JSON.parse(json) as RemoteSource;
  rs.registration_enabled ??= true;
  rs.login_enabled ??= true;
  return rs;
}

type Row = { data: string };

async function one<T>(
  tx: Tx,
  sql: string,
  params: (string | number)[],
  decode: (json: string) => T = parse,
): Promise<T | undefined> {
  const row = await tx.get<Row>(sql, params);
  return row ? decode(row.data) : undefined;
}

async function many<T>(
  tx: Tx,
  sql: string,
  params: (string | number)[],
  decode: (json: string) => T = parse,
): Promise<T[]> {
  const rows = await tx.all<Row>(sql, params);
  return rows.map((r) => decode(r.data));
}

/** A page of a table ordered by name. */
export interface PageQuery {
  limit: number;
  start?: string | undefined;
  asc: boolean;
}

function paged(table: string, q: PageQuery): { sql: string; params: (string | number)[] } {
  const dir = q.asc ? 'asc' : 'desc';
  const params: (string | number)[] = [];
  let where = '';
  if (q.start !== undefined && q.start !== '') {
    where = `where name ${q.asc ? '>' : '<'} ?`;
    params.push(q.start);
  }
  params.push(q.limit);
  return {
    sql: `select data from ${table} ${where} order by name ${dir}, id ${dir} limit ?`,
    params,
  };
}

/** The readdb queries of the configstore. */
export const queries = {
  userById: (tx: Tx, id: string) => one<User>(tx, 'select data from user where id = ?', [id]),
  userByName: (tx: Tx, name: string) =>
    one<User>(tx, 'select data from user where name = ? order by id limit 1', [name]),
  userByToken: (tx: Tx, token: string) =>
    one<User>(
      tx,
      'select user.data from user join user_token on user_token.userid = user.id where user_token.tokenvalue = ? limit 1',
      [token],
    ),
  userByLinkedAccount: (tx: Tx, laId: string) =>
    one<User>(
      tx,
      'select user.data from user join linkedaccount_user la on la.userid = user.id where la.id = ? limit 1',
      [laId],
    ),
  userByRemoteUser: (tx: Tx, remoteSourceId: string, remoteUserId: string) =>
    one<User>(
      tx,
      'select user.data from user join linkedaccount_user la on la.userid = user.id where la.remotesourceid = ? and la.remoteuserid = ? limit 1',
      [remoteSourceId, remoteUserId],
    ),
  users: (tx: Tx, q: PageQuery) => {
    const { sql, params } = paged('user', q);
    return many<User>(tx, sql, params);
  },
  orgById: (tx: Tx, id: string) => one<Org>(tx, 'select data from org where id = ?', [id]),
  orgByName: (tx: Tx, name: string) =>
    one<Org>(tx, 'select data from org where name = ? order by id limit 1', [name]),
  orgs: (tx: Tx, q: PageQuery) => {
    const { sql, params } = paged('org', q);
    return many<Org>(tx, sql, params);
  },
  orgMember: (tx: Tx, orgId: string, userId: string) =>
    one<OrgMember>(tx, 'select data from orgmember where orgid = ? and userid = ? limit 1', [
      orgId,
      userId,
    ]),
  orgMembersOfOrg: (tx: Tx, orgId: string) =>
    many<OrgMember>(tx, 'select data from orgmember where orgid = ? order by id', [orgId]),
  orgMembersOfUser: (tx: Tx, userId: string) =>
    many<OrgMember>(tx, 'select data from orgmember where userid = ? order by id', [userId]),
  projectGroupsOfParent: (tx: Tx, parentType: string, parentId: string) =>
    many<ProjectGroup>(
      tx,
      'select data from projectgroup where parenttype = ? and parentid = ? order by id',
      [parentType, parentId],
    ),
  projectGroupById: (tx: Tx, id: string) =>
    one<ProjectGroup>(tx, 'select data from projectgroup where id = ?', [id]),
  projectGroupByName: (tx: Tx, parentId: string, name: string) =>
    one<ProjectGroup>(
      tx,
      'select data from projectgroup where parentid = ? and name = ? order by id limit 1',
      [parentId, name],
    ),
  subgroups: (tx: Tx, parentId: string) =>
    many<ProjectGroup>(tx, 'select data from projectgroup where parentid = ? order by name, id', [
      parentId,
    ]),
  projectById: (tx: Tx, id: string) =>
    one<Project>(tx, 'select data from project where id = ?', [id]),
  projectByName: (tx: Tx, parentId: string, name: string) =>
    one<Project>(
      tx,
      'select data from project where parentid = ? and name = ? order by id limit 1',
      [parentId, name],
    ),
  projectsOfGroup: (tx: Tx, parentId: string) =>
    many<Project>(tx, 'select data from project where parentid = ? order by name, id', [parentId]),
  secretsOf: (tx: Tx, parentId: string) =>
    many<Secret>(tx, 'select data from secret where parentid = ? order by name, id', [parentId]),
  secretByName: (tx: Tx, parentId: string, name: string) =>
    one<Secret>(tx, 'select data from secret where parentid = ? and name = ? order by id limit 1', [
      parentId,
      name,
    ]),
  variablesOf: (tx: Tx, parentId: string) =>
    many<Variable>(tx, 'select data from variable where parentid = ? order by name, id', [
      parentId,
    ]),
  variableByName: (tx: Tx, parentId: string, name: string) =>
    one<Variable>(
      tx,
      'select data from variable where parentid = ? and name = ? order by id limit 1',
      [parentId, name],
    ),
  remoteSourceById: (tx: Tx, id: string) =>
    one(tx, 'select data from remotesource where id = ?', [id], decodeRemoteSource),
  remoteSourceByName: (tx: Tx, name: string) =>
    one(
      tx,
      'select data from remotesource where name = ? order by id limit 1',
      [name],
      decodeRemoteSource,
    ),
  remoteSources: (tx: Tx, q: PageQuery) => {
    const { sql, params } = paged('remotesource', q);
    return many(tx, sql, params, decodeRemoteSource);
  },
};

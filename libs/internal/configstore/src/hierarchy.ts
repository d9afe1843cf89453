import type { Action } from '@agola-ts/datamanager';
import type { Tx } from '@agola-ts/db';
import type { Augmented, OwnerType, Project, ProjectGroup, Visibility } from '@agola-ts/types';
import { changeGroups as cg } from './change-groups.js';
import { del } from './entities.js';
import { queries } from './readdb.js';

/** Where a project group sits: its ancestors, owner and computed path. */
export interface GroupPlace {
  /** The group and its ancestors, nearest first (the root group last). */
  chain: ProjectGroup[];
  ownerType: OwnerType;
  ownerId: string;
  /** `org/<name>` or `user/<name>`. */
  ownerPath: string;
  /** The group's computed path. */
  path: string;
  /** Private when the group, an ancestor or the owning org is private. */
  globalVisibility: Visibility;
}

/** Most levels walked up from a group (a guard against a cycle in corrupt data). */
const MAX_DEPTH = 1000;

/** The place of a group, or undefined when its chain or owner is broken. */
export async function groupPlace(tx: Tx, pg: ProjectGroup): Promise<GroupPlace | undefined> {
  const chain: ProjectGroup[] = [pg];
  let cur = pg;
  while (cur.parent.type === 'projectgroup') {
    if (chain.length > MAX_DEPTH) return undefined;
    const parent = await queries.projectGroupById(tx, cur.parent.id);
    if (!parent) return undefined;
    chain.push(parent);
    cur = parent;
  }
  const owner =
    cur.parent.type === 'org'
      ? await queries.orgById(tx, cur.parent.id)
      : await queries.userById(tx, cur.parent.id);
  return placeOf(chain, owner);
}

/** The place of a chain (nearest first) given the owner the root group names. */
function placeOf(
  chain: ProjectGroup[],
  owner: { id: string; name: string; visibility?: Visibility } | undefined,
): GroupPlace | undefined {
  const root = chain.at(-1);
  if (!root || !owner || root.parent.type === 'projectgroup' || root.parent.id !== owner.id) {
    return undefined;
  }
  const ownerType = root.parent.type;
  const ownerPath = `${ownerType}/${owner.name}`;
  const names = chain
    .slice(0, -1)
    .reverse()
    .map((g) => g.name ?? '');
  const path = [ownerPath, ...names].join('/');
  const isPrivate =
    (ownerType === 'org' && owner.visibility === 'private') ||
    chain.some((g) => g.visibility === 'private');
  return {
    chain,
    ownerType,
    ownerId: owner.id,
    ownerPath,
    path,
    globalVisibility: isPrivate ? 'private' : 'public',
  };
}

/**
 * One query for a group's chain and owner (and a project, when the chain starts at its parent):
 * rows ordered project (-2), owner (-1), then the groups nearest first (0...). `ctes` are
 * more common table expressions the start and project conditions may use.
 */
function chainSql(start: string, project?: string, ctes = ''): string {
  return `with recursive ${ctes ? `${ctes},\n` : ''}chain(id, data, parentid, parenttype, depth) as (
  select id, data, parentid, parenttype, 0 from projectgroup where id = ${start}
  union all
  select pg.id, pg.data, pg.parentid, pg.parenttype, chain.depth + 1
  from projectgroup pg join chain on pg.id = chain.parentid
  where chain.parenttype = 'projectgroup' and chain.depth < ${MAX_DEPTH}
)
select 'projectgroup' as kind, data, depth from chain
union all
select 'org', data, -1 from org where id = (select parentid from chain where parenttype = 'org' limit 1)
union all
select 'user', data, -1 from user where id = (select parentid from chain where parenttype = 'user' limit 1)
${project ? `union all select 'project', data, -2 from project where ${project}` : ''}
order by depth`;
}

/**
 * The common table expressions that find the group at a path: `walk(id, depth)` goes from the
 * owner's root group (empty name) down the named children level by level, `target(id)` is
 * the group at the last level (none when a level is missing). Parameters: the names as a
 * JSON array, the owner type, the owner name, the number of names.
 */
function pathCtes(ownerTable: 'org' | 'user'): string {
  // the owner table is one of two fixed names, never from the request
  return `names(i, name) as (select cast(key as integer), value from json_each(?)),
walk(id, depth) as (
  select pg.id, 0 from projectgroup pg
  where pg.parenttype = ? and pg.name = ''
    and pg.parentid = (select id from ${ownerTable} where name = ? order by id limit 1)
  union all
  select pg.id, walk.depth + 1 from walk
  join names on names.i = walk.depth
  join projectgroup pg on pg.parentid = walk.id and pg.name = names.name
),
target(id) as (select id from walk where depth = ? order by id limit 1)`;
}

interface ChainRow {
  kind: string;
  data: string;
}

function parseChain(rows: ChainRow[]): {
  project: Project | undefined;
  place: GroupPlace | undefined;
} {
  let project: Project | undefined;
  let owner: { id: string; name: string; visibility?: Visibility } | undefined;
  const chain: ProjectGroup[] = [];
  for (const r of rows) {
    if (r.kind === 'project') project = JSON.parse(r.data) as Project;
    else if (r.kind === 'projectgroup') chain.push(JSON.parse(r.data) as ProjectGroup);
    else owner = JSON.parse(r.data) as { id: string; name: string; visibility?: Visibility };
  }
  return { project, place: placeOf(chain, owner) };
}

/** The place of the group with this id (one query). */
export async function groupPlaceById(tx: Tx, id: string): Promise<GroupPlace | undefined> {
  const rows = await tx.all<ChainRow>(chainSql('?'), [id], { name: 'group place' });
  return parseChain(rows).place;
}

/** A project by id with its parent group's place (one query). */
export async function projectPlaceById(
  tx: Tx,
  id: string,
): Promise<{ project: Project; place: GroupPlace } | undefined> {
  const rows = await tx.all<ChainRow>(
    chainSql('(select parentid from project where id = ?)', 'id = ?'),
    [id, id],
    { name: 'project place' },
  );
  const { project, place } = parseChain(rows);
  return project && place ? { project, place } : undefined;
}

/**
 * Projects by id with their parent groups' places, in one query for all of them (the
 * batched form of {@link projectPlaceById}); ids not found are missing from the map.
 */
export async function projectPlacesByIds(
  tx: Tx,
  ids: readonly string[],
): Promise<Map<string, { project: Project; place: GroupPlace }>> {
  const rows = await tx.all<ChainRow & { pid: string }>(
    `with recursive
req(pid) as (select distinct value from json_each(?)),
chain(pid, id, data, parentid, parenttype, depth) as (
  select p.id, pg.id, pg.data, pg.parentid, pg.parenttype, 0
  from req join project p on p.id = req.pid join projectgroup pg on pg.id = p.parentid
  union all
  select chain.pid, pg.id, pg.data, pg.parentid, pg.parenttype, chain.depth + 1
  from projectgroup pg join chain on pg.id = chain.parentid
  where chain.parenttype = 'projectgroup' and chain.depth < ${MAX_DEPTH}
)
select pid, 'projectgroup' as kind, data, depth from chain
union all
select chain.pid, 'org', org.data, -1 from chain join org on org.id = chain.parentid where chain.parenttype = 'org'
union all
select chain.pid, 'user', user.data, -1 from chain join user on user.id = chain.parentid where chain.parenttype = 'user'
union all
select p.id, 'project', p.data, -2 from req join project p on p.id = req.pid
order by pid, depth`,
    [JSON.stringify(ids)],
    { name: 'project places' },
  );
  const byProject = new Map<string, ChainRow[]>();
  for (const r of rows) {
    let list = byProject.get(r.pid);
    if (!list) byProject.set(r.pid, (list = []));
    list.push(r);
  }
  const out = new Map<string, { project: Project; place: GroupPlace }>();
  for (const [pid, list] of byProject) {
    const { project, place } = parseChain(list);
    if (project && place) out.set(pid, { project, place });
  }
  return out;
}

/** The fields the configstore adds to a project group. */
export function augmentGroup(pg: ProjectGroup, place: GroupPlace): ProjectGroup & Augmented {
  // as Agola: a root group's parent path is its owner's (`user/alice`, `org/acme`)
  const parentPath = place.chain.length > 1 ? parentOf(place.path) : place.ownerPath;
  return {
    ...pg,
    OwnerType: place.ownerType,
    OwnerID: place.ownerId,
    Path: place.path,
    ParentPath: parentPath,
    GlobalVisibility: place.globalVisibility,
  };
}

/** The fields the configstore adds to a project, given its parent group's place. */
export function augmentProject(p: Project, parent: GroupPlace): Project & Augmented {
  const isPrivate = parent.globalVisibility === 'private' || p.visibility === 'private';
  return {
    ...p,
    OwnerType: parent.ownerType,
    OwnerID: parent.ownerId,
    Path: `${parent.path}/${p.name}`,
    ParentPath: parent.path,
    GlobalVisibility: isPrivate ? 'private' : 'public',
  };
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** Splits a path ref into its owner and element names, or undefined when it is not one. */
function splitPath(
  ref: string,
): { ownerType: OwnerType; owner: string; names: string[] } | undefined {
  const parts = ref.split('/');
  const [type, owner, ...names] = parts;
  if ((type !== 'org' && type !== 'user') || !owner) return undefined;
  if (names.some((n) => n === '')) return undefined;
  return { ownerType: type, owner, names };
}

/** The id of the group at a path, in one query; undefined when a level is missing. */
async function groupIdByPath(
  tx: Tx,
  ownerType: OwnerType,
  ownerName: string,
  names: string[],
): Promise<string | undefined> {
  const row = await tx.get<{ id: string }>(
    `with recursive ${pathCtes(ownerType === 'org' ? 'org' : 'user')}\nselect id from target`,
    [JSON.stringify(names), ownerType, ownerName, names.length],
    { name: 'group by path' },
  );
  return row?.id;
}

/**
 * A project group by ref: a ref with `/` is a path (`org/acme/group`, `user/alice`), any other
 * an id.
 */
export async function projectGroupByRef(tx: Tx, ref: string): Promise<ProjectGroup | undefined> {
  if (!ref.includes('/')) return queries.projectGroupById(tx, ref);
  const p = splitPath(ref);
  if (!p) return undefined;
  const id = await groupIdByPath(tx, p.ownerType, p.owner, p.names);
  return id === undefined ? undefined : queries.projectGroupById(tx, id);
}

/**
 * A project by ref (id or path) with its parent group's place, in one query: by path, the
 * walk down to the parent group, the group chain up to the owner and the project together.
 */
export async function projectPlaceByRef(
  tx: Tx,
  ref: string,
): Promise<{ project: Project; place: GroupPlace } | undefined> {
  if (!ref.includes('/')) return projectPlaceById(tx, ref);
  const p = splitPath(ref);
  if (!p || p.names.length === 0) return undefined;
  const groups = p.names.slice(0, -1);
  const rows = await tx.all<ChainRow>(
    chainSql(
      '(select id from target)',
      'parentid = (select id from target) and name = ?',
      pathCtes(p.ownerType === 'org' ? 'org' : 'user'),
    ),
    [JSON.stringify(groups), p.ownerType, p.owner, groups.length, p.names.at(-1) ?? ''],
    { name: 'project place by path' },
  );
  const { project, place } = parseChain(rows);
  return project && place ? { project, place } : undefined;
}

/** Whether `ancestorId` is `pg` or one of its ancestors. */
export async function isSelfOrDescendant(
  tx: Tx,
  pg: ProjectGroup,
  ancestorId: string,
): Promise<boolean> {
  let cur: ProjectGroup | undefined = pg;
  for (let depth = 0; cur && depth <= MAX_DEPTH; depth++) {
    if (cur.id === ancestorId) return true;
    if (cur.parent.type !== 'projectgroup') return false;
    cur = await queries.projectGroupById(tx, cur.parent.id);
  }
  return false;
}

/** What deleting some project groups removes: the groups, their subtrees and every item in them. */
export interface SubtreeDelete {
  actions: Action[];
  /** The change groups of the deleted groups and projects (their ids). */
  groups: string[];
}

/** The actions deleting these groups with their subgroups, projects, secrets and variables. */
export async function deleteSubtrees(tx: Tx, roots: ProjectGroup[]): Promise<SubtreeDelete> {
  const actions: Action[] = [];
  const groups: string[] = [];
  const items = async (parentId: string) => {
    for (const s of await queries.secretsOf(tx, parentId)) actions.push(del('secret', s.id));
    for (const v of await queries.variablesOf(tx, parentId)) actions.push(del('variable', v.id));
  };
  const queue = [...roots];
  const seen = new Set<string>();
  for (let pg = queue.shift(); pg; pg = queue.shift()) {
    if (seen.has(pg.id)) continue;
    seen.add(pg.id);
    actions.push(del('projectgroup', pg.id));
    groups.push(cg.entityId(pg.id));
    await items(pg.id);
    for (const p of await queries.projectsOfGroup(tx, pg.id)) {
      actions.push(del('project', p.id));
      groups.push(cg.entityId(p.id));
      await items(p.id);
    }
    queue.push(...(await queries.subgroups(tx, pg.id)));
  }
  return { actions, groups };
}

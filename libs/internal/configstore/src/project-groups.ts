import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import {
  isValidName,
  isVisibility,
  type ProjectGroup,
  type ProjectGroupResponse,
  type ProjectResponse,
  type Visibility,
} from '@agola-ts/types';
import { objectBody, optString } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { newId, put } from './entities.js';
import { alreadyExists, invalid, missing, notFound } from './errors.js';
import {
  augmentGroup,
  augmentProject,
  deleteSubtrees,
  groupPlace,
  groupPlaceById,
  isSelfOrDescendant,
  projectGroupByRef,
  type GroupPlace,
} from './hierarchy.js';
import { queries } from './readdb.js';
import type { Mutation, Store } from './store.js';

type Params = Record<string, string>;

/** The `Parent` field of a request: an object with a string `type` and a non-empty `id`. */
export function parentField(body: Record<string, unknown>): { type: string; id: string } {
  const p = body['Parent'];
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    throw invalid('Parent is required (an object with type and id)');
  }
  const parent = p as Record<string, unknown>;
  const type = optString(parent, 'type');
  const id = optString(parent, 'id');
  if (type === undefined || type === '') throw invalid('Parent.type is required');
  if (id === undefined || id === '') throw invalid('Parent.id is required');
  return { type, id };
}

/** The `Visibility` field, required. */
export function visibilityField(body: Record<string, unknown>): Visibility {
  const v = body['Visibility'];
  if (!isVisibility(v)) throw invalid('Visibility must be "public" or "private"');
  return v;
}

/** A group with its place, or a 400 when it does not exist (or its chain is broken). */
export async function existingGroup(
  tx: Tx,
  ref: string,
  what = 'project group',
): Promise<{ pg: ProjectGroup; place: GroupPlace }> {
  const pg = await projectGroupByRef(tx, ref);
  const place = pg && (await groupPlaceById(tx, pg.id));
  if (!pg || !place) throw missing(`${what} ${JSON.stringify(ref)} doesn't exist`);
  return { pg, place };
}

/** A group with its place for a GET, or a 404. */
export async function foundGroup(
  tx: Tx,
  ref: string,
): Promise<{ pg: ProjectGroup; place: GroupPlace }> {
  const pg = await projectGroupByRef(tx, ref);
  const place = pg && (await groupPlaceById(tx, pg.id));
  if (!pg || !place) throw notFound(`project group ${JSON.stringify(ref)} doesn't exist`);
  return { pg, place };
}

/** The project group routes of reference §6.4. */
export function registerProjectGroupRoutes(api: FastifyInstance, store: Store): void {
  api.get<{ Params: Params }>('/projectgroups/:ref', async (req) => {
    const ref = req.params['ref'] ?? '';
    return store.read(async (tx): Promise<ProjectGroupResponse> => {
      const { pg, place } = await foundGroup(tx, ref);
      return augmentGroup(pg, place);
    });
  });

  api.get<{ Params: Params }>('/projectgroups/:ref/subgroups', async (req) => {
    const ref = req.params['ref'] ?? '';
    return store.read(async (tx): Promise<ProjectGroupResponse[]> => {
      const { pg } = await foundGroup(tx, ref);
      const out: ProjectGroupResponse[] = [];
      for (const sub of await queries.subgroups(tx, pg.id)) {
        const place = await groupPlace(tx, sub);
        if (place) out.push(augmentGroup(sub, place));
      }
      return out;
    });
  });

  api.get<{ Params: Params }>('/projectgroups/:ref/projects', async (req) => {
    const ref = req.params['ref'] ?? '';
    return store.read(async (tx): Promise<ProjectResponse[]> => {
      const { pg, place } = await foundGroup(tx, ref);
      const projects = await queries.projectsOfGroup(tx, pg.id);
      return projects.map((p) => augmentProject(p, place));
    });
  });

  api.post('/projectgroups', async (req, reply) => {
    const body = objectBody(req.body);
    const name = optString(body, 'Name') ?? '';
    if (!isValidName(name)) {
      throw invalid(`invalid project group name ${JSON.stringify(name)} (Name)`);
    }
    const parentRef = parentField(body);
    if (parentRef.type !== 'projectgroup') {
      throw invalid(
        'Parent.type must be "projectgroup" (root project groups come with their owner)',
      );
    }
    const visibility = visibilityField(body);
    const result = await store.mutate(async (tx): Promise<Mutation<ProjectGroupResponse>> => {
      const parent = await existingGroup(tx, parentRef.id, 'Parent: project group');
      if (await queries.projectGroupByName(tx, parent.pg.id, name)) {
        throw alreadyExists(
          `project group with name ${JSON.stringify(name)} already exists in ${parent.place.path}`,
        );
      }
      const pg: ProjectGroup = {
        id: newId(),
        name,
        parent: { type: 'projectgroup', id: parent.pg.id },
        visibility,
      };
      const place: GroupPlace = {
        ...parent.place,
        chain: [pg, ...parent.place.chain],
        path: `${parent.place.path}/${name}`,
        globalVisibility: visibility === 'private' ? 'private' : parent.place.globalVisibility,
      };
      return {
        // the parent's id: a concurrent delete of the parent cannot leave this group orphaned
        groups: [cg.projectPath(place.path), cg.entityId(parent.pg.id)],
        actions: [put('projectgroup', pg.id, pg)],
        result: augmentGroup(pg, place),
      };
    });
    return created(reply, result);
  });

  api.put<{ Params: Params }>('/projectgroups/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const body = objectBody(req.body);
    const name = optString(body, 'Name') ?? '';
    const parentRef = parentField(body);
    const visibility = visibilityField(body);
    const result = await store.mutate(async (tx): Promise<Mutation<ProjectGroupResponse>> => {
      const { pg, place } = await existingGroup(tx, ref);
      if (pg.parent.type !== parentRef.type) {
        throw invalid(`Parent.type cannot change (it is ${JSON.stringify(pg.parent.type)})`);
      }
      if (pg.parent.type !== 'projectgroup') {
        // a root group: only its visibility can change
        if (name !== '') throw invalid('a root project group has an empty name (Name)');
        if (parentRef.id !== pg.parent.id) {
          throw invalid('a root project group cannot be moved (Parent.id)');
        }
        const updated: ProjectGroup = { ...pg, visibility };
        const newPlace = (await groupPlace(tx, updated)) ?? place;
        return {
          groups: [cg.projectPath(place.path), cg.entityId(pg.id)],
          actions: [put('projectgroup', pg.id, updated)],
          result: augmentGroup(updated, newPlace),
        };
      }
      if (!isValidName(name)) {
        throw invalid(`invalid project group name ${JSON.stringify(name)} (Name)`);
      }
      const parent = await existingGroup(tx, parentRef.id, 'Parent: project group');
      if (await isSelfOrDescendant(tx, parent.pg, pg.id)) {
        throw invalid(
          'a project group cannot be moved into itself or one of its subgroups (Parent.id)',
        );
      }
      const same = await queries.projectGroupByName(tx, parent.pg.id, name);
      if (same && same.id !== pg.id) {
        throw alreadyExists(
          `project group with name ${JSON.stringify(name)} already exists in ${parent.place.path}`,
        );
      }
      const updated: ProjectGroup = {
        ...pg,
        name,
        parent: { type: 'projectgroup', id: parent.pg.id },
        visibility,
      };
      const newPlace: GroupPlace = {
        ...parent.place,
        chain: [updated, ...parent.place.chain],
        path: `${parent.place.path}/${name}`,
        globalVisibility: visibility === 'private' ? 'private' : parent.place.globalVisibility,
      };
      return {
        groups: [
          cg.projectPath(place.path),
          cg.projectPath(newPlace.path),
          cg.entityId(pg.id),
          cg.entityId(parent.pg.id),
        ],
        actions: [put('projectgroup', pg.id, updated)],
        result: augmentGroup(updated, newPlace),
      };
    });
    return created(reply, result);
  });

  api.delete<{ Params: Params }>('/projectgroups/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const { pg, place } = await existingGroup(tx, ref);
      if (pg.parent.type !== 'projectgroup') {
        throw invalid('a root project group cannot be deleted');
      }
      // beyond Agola: the subgroups, projects, secrets and variables go with it (no orphans)
      const subtree = await deleteSubtrees(tx, [pg]);
      return {
        groups: [cg.projectPath(place.path), ...subtree.groups],
        actions: subtree.actions,
        result: undefined,
      };
    });
    return noContent(reply);
  });
}

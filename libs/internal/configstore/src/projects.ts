import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import type { Project, ProjectResponse } from '@agola-ts/types';
import { objectBody, optBool, optString, reqName, reqString } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { del, newId, put, randomSecret } from './entities.js';
import { alreadyExists, invalid, missing, notFound } from './errors.js';
import {
  augmentProject,
  projectPlaceByRef,
  projectPlacesByIds,
  type GroupPlace,
} from './hierarchy.js';
import { existingGroup, parentField, visibilityField } from './project-groups.js';
import { queries } from './readdb.js';
import { remoteSourceByRef } from './refs.js';
import type { Mutation, Store } from './store.js';
import { dropUndefined, linkedAccountOf } from './users.js';

type Params = Record<string, string>;

/** The checked fields of a create or update request (refs not yet resolved). */
interface ProjectRequest {
  name: string;
  parentRef: string;
  fields: Omit<Project, 'id' | 'name' | 'parent' | 'secret' | 'webhook_secret'>;
}

function projectRequest(raw: unknown): ProjectRequest {
  const body = objectBody(raw);
  const name = reqName(body, 'Name', 'project');
  const parent = parentField(body);
  if (parent.type !== 'projectgroup') throw invalid('Parent.type must be "projectgroup"');
  const visibility = visibilityField(body);
  const configType = optString(body, 'RemoteRepositoryConfigType');
  if (configType !== 'remotesource') {
    throw invalid(
      `RemoteRepositoryConfigType ${JSON.stringify(configType ?? '')} is not supported (only "remotesource")`,
    );
  }
  return {
    name,
    parentRef: parent.id,
    fields: dropUndefined({
      visibility,
      remote_repository_config_type: configType,
      remote_source_id: reqString(body, 'RemoteSourceID'),
      linked_account_id: reqString(body, 'LinkedAccountID'),
      repository_id: reqString(body, 'RepositoryID'),
      repository_path: reqString(body, 'RepositoryPath'),
      ssh_private_key: optString(body, 'SSHPrivateKey'),
      skip_ssh_host_key_check: optBool(body, 'SkipSSHHostKeyCheck'),
      pass_vars_to_forked_pr: optBool(body, 'PassVarsToForkedPR'),
    }),
  };
}

/** Resolves the remote source ref to its id and checks the linked account belongs to it. */
async function checkRemote(tx: Tx, r: ProjectRequest): Promise<ProjectRequest['fields']> {
  const rsRef = r.fields.remote_source_id ?? '';
  const rs = await remoteSourceByRef(tx, rsRef);
  if (!rs) throw missing(`RemoteSourceID: remote source ${JSON.stringify(rsRef)} doesn't exist`);
  const laId = r.fields.linked_account_id ?? '';
  const user = await queries.userByLinkedAccount(tx, laId);
  const la = user && linkedAccountOf(user, laId);
  if (!la) throw missing(`LinkedAccountID: linked account ${JSON.stringify(laId)} doesn't exist`);
  if (la.remote_source_id !== rs.id) {
    throw invalid(
      `LinkedAccountID: linked account ${JSON.stringify(laId)} doesn't belong to remote source ${rs.name}`,
    );
  }
  return { ...r.fields, remote_source_id: rs.id };
}

/** A project with its parent group's place, or undefined. */
async function projectWithPlace(
  tx: Tx,
  ref: string,
): Promise<{ project: Project; place: GroupPlace } | undefined> {
  return projectPlaceByRef(tx, ref);
}

/** A project for a mutation, or a 400. */
export async function existingProject(
  tx: Tx,
  ref: string,
): Promise<{ project: Project; place: GroupPlace }> {
  const found = await projectWithPlace(tx, ref);
  if (!found) throw missing(`project ${JSON.stringify(ref)} doesn't exist`);
  return found;
}

/** A project for a GET, or a 404. */
export async function foundProject(
  tx: Tx,
  ref: string,
): Promise<{ project: Project; place: GroupPlace }> {
  const found = await projectWithPlace(tx, ref);
  if (!found) throw notFound(`project ${JSON.stringify(ref)} doesn't exist`);
  return found;
}

type Placed = { project: Project; place: GroupPlace } | undefined;

/** Most projects looked up by one batched query. */
const MAX_BATCH = 256;

/**
 * Looks projects up by id for GETs, batching the lookups that arrive in one turn of the
 * event loop into one readdb query (each is one statement: its own snapshot, no transaction).
 * Under concurrent load the sqlite thread-pool round trip, most of a lookup's cost, is paid
 * once per batch instead of once per request; a lone request waits one `setImmediate`.
 */
export class ProjectLookups {
  private pending = new Map<
    string,
    Array<{ resolve(p: Placed): void; reject(e: unknown): void }>
  >();
  private scheduled = false;

  constructor(private readonly store: Store) {}

  /** The project with this id and its parent group's place, or undefined. */
  byId(id: string): Promise<Placed> {
    return new Promise((resolve, reject) => {
      let waiting = this.pending.get(id);
      if (!waiting) this.pending.set(id, (waiting = []));
      waiting.push({ resolve, reject });
      if (this.pending.size >= MAX_BATCH) {
        void this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    if (batch.size === 0) return;
    try {
      const found = await this.store.read((tx) => projectPlacesByIds(tx, [...batch.keys()]), {
        singleStatement: true,
      });
      for (const [id, waiting] of batch) for (const w of waiting) w.resolve(found.get(id));
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err);
    }
  }
}

/** The project routes of reference §6.4. */
export function registerProjectRoutes(api: FastifyInstance, store: Store): void {
  const lookups = new ProjectLookups(store);
  api.get<{ Params: Params }>('/projects/:ref', async (req): Promise<ProjectResponse> => {
    const ref = req.params['ref'] ?? '';
    // by id: one statement (the project with its group chain and owner) shared with the other
    // GETs by id of this turn; by path: one statement too, the walk down the path included
    const found = ref.includes('/')
      ? await store.read((tx) => projectPlaceByRef(tx, ref), { singleStatement: true })
      : await lookups.byId(ref);
    if (!found) throw notFound(`project ${JSON.stringify(ref)} doesn't exist`);
    return augmentProject(found.project, found.place);
  });

  api.post('/projects', async (req, reply) => {
    const r = projectRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<ProjectResponse>> => {
      const parent = await existingGroup(tx, r.parentRef, 'Parent: project group');
      if (await queries.projectByName(tx, parent.pg.id, r.name)) {
        throw alreadyExists(
          `project with name ${JSON.stringify(r.name)} already exists in ${parent.place.path}`,
        );
      }
      const fields = await checkRemote(tx, r);
      const project: Project = dropUndefined({
        id: newId(),
        name: r.name,
        secret: randomSecret(),
        parent: { type: 'projectgroup', id: parent.pg.id },
        ...fields,
        webhook_secret: randomSecret(),
      });
      const response = augmentProject(project, parent.place);
      return {
        // the parent's id: a concurrent delete of the parent cannot leave this project orphaned
        groups: [cg.projectPath(response.Path), cg.entityId(parent.pg.id)],
        actions: [put('project', project.id, project)],
        result: response,
      };
    });
    return created(reply, result);
  });

  api.put<{ Params: Params }>('/projects/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const r = projectRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<ProjectResponse>> => {
      const { project, place } = await existingProject(tx, ref);
      const parent = await existingGroup(tx, r.parentRef, 'Parent: project group');
      const same = await queries.projectByName(tx, parent.pg.id, r.name);
      if (same && same.id !== project.id) {
        throw alreadyExists(
          `project with name ${JSON.stringify(r.name)} already exists in ${parent.place.path}`,
        );
      }
      const fields = await checkRemote(tx, r);
      // the id, secret and webhook secret are the configstore's: an update keeps them
      const updated: Project = dropUndefined({
        id: project.id,
        name: r.name,
        secret: project.secret,
        parent: { type: 'projectgroup', id: parent.pg.id },
        ...fields,
        webhook_secret: project.webhook_secret,
      });
      const response = augmentProject(updated, parent.place);
      const oldPath = `${place.path}/${project.name}`;
      return {
        groups: [
          cg.projectPath(oldPath),
          cg.projectPath(response.Path),
          cg.entityId(project.id),
          cg.entityId(parent.pg.id),
        ],
        actions: [put('project', project.id, updated)],
        result: response,
      };
    });
    return created(reply, result);
  });

  api.delete<{ Params: Params }>('/projects/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const { project, place } = await existingProject(tx, ref);
      // beyond Agola: its secrets and variables go with it (no orphans)
      const secrets = await queries.secretsOf(tx, project.id);
      const variables = await queries.variablesOf(tx, project.id);
      return {
        groups: [cg.projectPath(`${place.path}/${project.name}`), cg.entityId(project.id)],
        actions: [
          del('project', project.id),
          ...secrets.map((x) => del('secret', x.id)),
          ...variables.map((x) => del('variable', x.id)),
        ],
        result: undefined,
      };
    });
    return noContent(reply);
  });
}

import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import type {
  Secret,
  SecretParent,
  SecretResponse,
  Variable,
  VariableResponse,
  VariableValue,
} from '@agola-ts/types';
import { objectBody, optString, reqName } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { del, newId, put } from './entities.js';
import { alreadyExists, invalid, missing } from './errors.js';
import type { GroupPlace } from './hierarchy.js';
import { existingGroup, foundGroup } from './project-groups.js';
import { existingProject, foundProject } from './projects.js';
import { queries } from './readdb.js';
import { queryString } from './refs.js';
import type { Mutation, Store } from './store.js';
import { dropUndefined } from './users.js';
import { checkWhen } from './when.js';

type Params = Record<string, string>;

/** A secret or variable parent with its path, and its ancestors' (nearest first). */
interface Owner {
  parent: SecretParent;
  /** The parent first, then its ancestor groups up to the root group. */
  lineage: { id: string; path: string }[];
}

/** The group chain of a place with each group's path, nearest first. */
function groupLineage(place: GroupPlace): { id: string; path: string }[] {
  let path = place.path;
  return place.chain.map((g) => {
    const here = { id: g.id, path };
    path = path.slice(0, path.lastIndexOf('/'));
    return here;
  });
}

type Kind = 'projectgroup' | 'project';

async function owner(tx: Tx, kind: Kind, ref: string, forMutation: boolean): Promise<Owner> {
  if (kind === 'projectgroup') {
    const { pg, place } = forMutation ? await existingGroup(tx, ref) : await foundGroup(tx, ref);
    return { parent: { type: 'projectgroup', id: pg.id }, lineage: groupLineage(place) };
  }
  const { project, place } = forMutation
    ? await existingProject(tx, ref)
    : await foundProject(tx, ref);
  return {
    parent: { type: 'project', id: project.id },
    lineage: [{ id: project.id, path: `${place.path}/${project.name}` }, ...groupLineage(place)],
  };
}

/** Whether `?tree` is asked (present, and not "false" or "0"). */
function treeQuery(query: Record<string, unknown>): boolean {
  const v = queryString(query, 'tree');
  return v !== undefined && v !== 'false' && v !== '0';
}

function secretRequest(raw: unknown): Omit<Secret, 'id' | 'parent'> {
  const body = objectBody(raw);
  const name = reqName(body, 'Name', 'secret');
  const type = body['Type'];
  if (type !== 'internal') {
    throw invalid('Type must be "internal" (external secrets are not supported)');
  }
  const rawData = body['Data'];
  if (rawData === null || typeof rawData !== 'object' || Array.isArray(rawData)) {
    throw invalid('Data is required (an object of string values)');
  }
  const entries = Object.entries(rawData as Record<string, unknown>);
  if (entries.length === 0) throw invalid('Data must not be empty');
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid(`Data.${k} must be a string`);
  }
  // own properties whatever the key (an assignment of "__proto__" would set the prototype)
  const data = Object.fromEntries(entries) as Record<string, string>;
  return dropUndefined({
    name,
    type,
    data,
    secret_provider_id: optString(body, 'SecretProviderID'),
    path: optString(body, 'Path'),
  });
}

function variableRequest(raw: unknown): Omit<Variable, 'id' | 'parent'> {
  const body = objectBody(raw);
  const name = reqName(body, 'Name', 'variable');
  const rawValues = body['Values'];
  if (!Array.isArray(rawValues) || rawValues.length === 0) {
    throw invalid('Values must be a list of at least one value');
  }
  const values = rawValues.map((v: unknown, i): VariableValue => {
    const o = objectBody(v, `Values[${i}]`);
    const secretName = optString(o, 'secret_name');
    const secretVar = optString(o, 'secret_var');
    if (!secretName) throw invalid(`Values[${i}].secret_name is required`);
    if (!secretVar) throw invalid(`Values[${i}].secret_var is required`);
    const rawWhen = o['when'];
    const when =
      rawWhen === undefined || rawWhen === null
        ? undefined
        : checkWhen(rawWhen, `Values[${i}].when`);
    return dropUndefined({
      secret_name: secretName,
      secret_var: secretVar,
      when,
    });
  });
  return { name, values };
}

/** The secret and variable routes of one parent kind. */
function registerItemRoutes(api: FastifyInstance, store: Store, kind: Kind): void {
  const base = kind === 'projectgroup' ? '/projectgroups/:ref' : '/projects/:ref';

  api.get<{ Params: Params }>(`${base}/secrets`, async (req) => {
    const ref = req.params['ref'] ?? '';
    const tree = treeQuery(req.query as Record<string, unknown>);
    return store.read(async (tx): Promise<SecretResponse[]> => {
      const o = await owner(tx, kind, ref, false);
      const out: SecretResponse[] = [];
      for (const p of tree ? o.lineage : o.lineage.slice(0, 1)) {
        for (const s of await queries.secretsOf(tx, p.id)) out.push({ ...s, ParentPath: p.path });
      }
      return out;
    });
  });

  api.post<{ Params: Params }>(`${base}/secrets`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const fields = secretRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<SecretResponse>> => {
      const o = await owner(tx, kind, ref, true);
      if (await queries.secretByName(tx, o.parent.id, fields.name)) {
        throw alreadyExists(`secret with name ${JSON.stringify(fields.name)} already exists`);
      }
      const secret: Secret = { id: newId(), ...fields, parent: o.parent };
      return {
        groups: [cg.secretName(fields.name), cg.entityId(o.parent.id)],
        actions: [put('secret', secret.id, secret)],
        result: { ...secret, ParentPath: o.lineage[0]?.path ?? '' },
      };
    });
    return created(reply, result);
  });

  api.put<{ Params: Params }>(`${base}/secrets/:name`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const name = req.params['name'] ?? '';
    const fields = secretRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<SecretResponse>> => {
      const o = await owner(tx, kind, ref, true);
      const current = await queries.secretByName(tx, o.parent.id, name);
      if (!current) throw missing(`secret ${JSON.stringify(name)} doesn't exist`);
      const same = await queries.secretByName(tx, o.parent.id, fields.name);
      if (same && same.id !== current.id) {
        throw alreadyExists(`secret with name ${JSON.stringify(fields.name)} already exists`);
      }
      const secret: Secret = { id: current.id, ...fields, parent: current.parent };
      return {
        groups: [cg.secretName(name), cg.secretName(fields.name), cg.secretId(current.id)],
        actions: [put('secret', secret.id, secret)],
        result: { ...secret, ParentPath: o.lineage[0]?.path ?? '' },
      };
    });
    return reply.code(200).send(result);
  });

  api.delete<{ Params: Params }>(`${base}/secrets/:name`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const name = req.params['name'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const o = await owner(tx, kind, ref, true);
      const current = await queries.secretByName(tx, o.parent.id, name);
      if (!current) throw missing(`secret ${JSON.stringify(name)} doesn't exist`);
      return {
        groups: [cg.secretName(name), cg.secretId(current.id)],
        actions: [del('secret', current.id)],
        result: undefined,
      };
    });
    return noContent(reply);
  });

  api.get<{ Params: Params }>(`${base}/variables`, async (req) => {
    const ref = req.params['ref'] ?? '';
    const tree = treeQuery(req.query as Record<string, unknown>);
    return store.read(async (tx): Promise<VariableResponse[]> => {
      const o = await owner(tx, kind, ref, false);
      const out: VariableResponse[] = [];
      for (const p of tree ? o.lineage : o.lineage.slice(0, 1)) {
        for (const v of await queries.variablesOf(tx, p.id)) {
          out.push({ ...v, ParentPath: p.path });
        }
      }
      return out;
    });
  });

  api.post<{ Params: Params }>(`${base}/variables`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const fields = variableRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<VariableResponse>> => {
      const o = await owner(tx, kind, ref, true);
      if (await queries.variableByName(tx, o.parent.id, fields.name)) {
        throw alreadyExists(`variable with name ${JSON.stringify(fields.name)} already exists`);
      }
      const variable: Variable = {
        id: newId(),
        name: fields.name,
        parent: o.parent,
        values: fields.values,
      };
      return {
        groups: [cg.variableName(fields.name), cg.entityId(o.parent.id)],
        actions: [put('variable', variable.id, variable)],
        result: { ...variable, ParentPath: o.lineage[0]?.path ?? '' },
      };
    });
    return created(reply, result);
  });

  api.put<{ Params: Params }>(`${base}/variables/:name`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const name = req.params['name'] ?? '';
    const fields = variableRequest(req.body);
    const result = await store.mutate(async (tx): Promise<Mutation<VariableResponse>> => {
      const o = await owner(tx, kind, ref, true);
      const current = await queries.variableByName(tx, o.parent.id, name);
      if (!current) throw missing(`variable ${JSON.stringify(name)} doesn't exist`);
      const same = await queries.variableByName(tx, o.parent.id, fields.name);
      if (same && same.id !== current.id) {
        throw alreadyExists(`variable with name ${JSON.stringify(fields.name)} already exists`);
      }
      const variable: Variable = {
        id: current.id,
        name: fields.name,
        parent: current.parent,
        values: fields.values,
      };
      return {
        groups: [cg.variableName(name), cg.variableName(fields.name), cg.variableId(current.id)],
        actions: [put('variable', variable.id, variable)],
        result: { ...variable, ParentPath: o.lineage[0]?.path ?? '' },
      };
    });
    return reply.code(200).send(result);
  });

  api.delete<{ Params: Params }>(`${base}/variables/:name`, async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const name = req.params['name'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const o = await owner(tx, kind, ref, true);
      const current = await queries.variableByName(tx, o.parent.id, name);
      if (!current) throw missing(`variable ${JSON.stringify(name)} doesn't exist`);
      return {
        groups: [cg.variableName(name), cg.variableId(current.id)],
        actions: [del('variable', current.id)],
        result: undefined,
      };
    });
    return noContent(reply);
  });
}

/** The secret and variable routes of reference §6.4, on project groups and projects. */
export function registerSecretRoutes(api: FastifyInstance, store: Store): void {
  registerItemRoutes(api, store, 'projectgroup');
  registerItemRoutes(api, store, 'project');
}

import type { ItemParentKind } from '@agola-ts/configstore-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import { created, noContent } from '@agola-ts/service-kit';
import type { SecretResponse, VariableValue } from '@agola-ts/types';
import { requireAuth } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import {
  loadOwnedProject,
  loadOwnedProjectGroup,
  loadProject,
  loadProjectGroup,
} from '../permissions.js';
import {
  bodyOf,
  hasQueryFlag,
  MAX_FIELD_LENGTH,
  MAX_SECRET_VALUE_LENGTH,
  param,
  str,
  validName,
} from '../request.js';
import { secretResponse, variableResponse } from '../responses.js';
import { filterOverriddenVariables } from '../runs/variables.js';

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest });

/** Most keys in a secret's data and most values of a variable. */
const MAX_ITEMS = 256;

const PARENTS: readonly { kind: ItemParentKind; prefix: string; param: string }[] = [
  { kind: 'projectgroup', prefix: '/projectgroups/:projectgroupref', param: 'projectgroupref' },
  { kind: 'project', prefix: '/projects/:projectref', param: 'projectref' },
];

/** The id of the parent if the caller may read it. */
async function readableParent(
  ctx: GatewayContext,
  req: FastifyRequest,
  kind: ItemParentKind,
  ref: string,
): Promise<string> {
  requireAuth(req);
  return kind === 'project'
    ? (await loadProject(ctx, req, ref)).id
    : (await loadProjectGroup(ctx, req, ref)).id;
}

/** The id of the parent if the caller owns it. */
async function ownedParent(
  ctx: GatewayContext,
  req: FastifyRequest,
  kind: ItemParentKind,
  ref: string,
): Promise<string> {
  requireAuth(req);
  return kind === 'project'
    ? (await loadOwnedProject(ctx, req, ref)).id
    : (await loadOwnedProjectGroup(ctx, req, ref)).id;
}

function secretData(body: Record<string, unknown>): Record<string, string> {
  const raw = Object.hasOwn(body, 'data') ? body['data'] : undefined;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('data must be an object of strings');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ITEMS) throw invalid(`data has more than ${MAX_ITEMS} keys`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid('data must be an object of strings');
    if (k.length > MAX_FIELD_LENGTH || v.length > MAX_SECRET_VALUE_LENGTH)
      throw invalid('data entry too long');
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function variableValues(body: Record<string, unknown>): VariableValue[] {
  const raw = Object.hasOwn(body, 'values') ? body['values'] : undefined;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('values must be an array');
  if (raw.length > MAX_ITEMS) throw invalid(`more than ${MAX_ITEMS} values`);
  return raw.map((v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw invalid('each value must be an object');
    const o = v as Record<string, unknown>;
    const when = Object.hasOwn(o, 'when') ? o['when'] : undefined;
    return {
      secret_name: str(o, 'secret_name'),
      secret_var: str(o, 'secret_var'),
      ...(when !== undefined && when !== null ? { when } : {}),
    };
  });
}

function removeOverriddenSecrets(secrets: SecretResponse[]): SecretResponse[] {
  return filterOverriddenVariables(secrets);
}

/**
 * The secret and variable routes of project groups and projects: `GET|POST .../secrets`
 * (`?tree&removeoverridden`), `PUT|DELETE .../secrets/{name}`, and the same for variables.
 * Reading needs read access to the parent, changing needs ownership. Secret values are never
 * answered.
 */
export function registerSecretRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  for (const parent of PARENTS) {
    const { kind } = parent;
    api.get(`${parent.prefix}/secrets`, async (req) => {
      const id = await readableParent(ctx, req, kind, param(req, parent.param));
      try {
        let secrets = await ctx.configstore.getSecrets(kind, id, {
          tree: hasQueryFlag(req, 'tree'),
        });
        if (hasQueryFlag(req, 'removeoverridden')) secrets = removeOverriddenSecrets(secrets);
        return secrets.map(secretResponse);
      } catch (err) {
        throw passThrough(err);
      }
    });

    api.post(`${parent.prefix}/secrets`, async (req, reply) => {
      const id = await ownedParent(ctx, req, kind, param(req, parent.param));
      const body = bodyOf(req);
      const name = validName(str(body, 'name'), 'secret');
      try {
        const s = await ctx.configstore.createSecret(kind, id, {
          Name: name,
          Type: (str(body, 'type') || 'internal') as 'internal',
          Data: secretData(body),
        });
        return created(reply, secretResponse(s));
      } catch (err) {
        throw passThrough(err);
      }
    });

    api.put(`${parent.prefix}/secrets/:secretname`, async (req) => {
      const id = await ownedParent(ctx, req, kind, param(req, parent.param));
      const body = bodyOf(req);
      const name = validName(str(body, 'name'), 'secret');
      try {
        const s = await ctx.configstore.updateSecret(kind, id, param(req, 'secretname'), {
          Name: name,
          Type: (str(body, 'type') || 'internal') as 'internal',
          Data: secretData(body),
        });
        return secretResponse(s);
      } catch (err) {
        throw passThrough(err);
      }
    });

    api.delete(`${parent.prefix}/secrets/:secretname`, async (req, reply) => {
      const id = await ownedParent(ctx, req, kind, param(req, parent.param));
      try {
        await ctx.configstore.deleteSecret(kind, id, param(req, 'secretname'));
      } catch (err) {
        throw passThrough(err);
      }
      return noContent(reply);
    });

    api.get(`${parent.prefix}/variables`, async (req) => {
      const id = await readableParent(ctx, req, kind, param(req, parent.param));
      try {
        let variables = await ctx.configstore.getVariables(kind, id, {
          tree: hasQueryFlag(req, 'tree'),
        });
        const secrets = await ctx.configstore.getSecrets(kind, id, { tree: true });
        if (hasQueryFlag(req, 'removeoverridden')) variables = filterOverriddenVariables(variables);
        return variables.map((v) => variableResponse(v, secrets));
      } catch (err) {
        throw passThrough(err);
      }
    });

    const writeVariable = async (req: FastifyRequest, name?: string) => {
      const id = await ownedParent(ctx, req, kind, param(req, parent.param));
      const body = bodyOf(req);
      const newName = validName(str(body, 'name'), 'variable');
      const values = variableValues(body);
      if (values.length === 0) throw invalid('empty variable values');
      try {
        const secrets = await ctx.configstore.getSecrets(kind, id, { tree: true });
        const req2 = { Name: newName, Values: values };
        const v =
          name === undefined
            ? await ctx.configstore.createVariable(kind, id, req2)
            : await ctx.configstore.updateVariable(kind, id, name, req2);
        return variableResponse(v, secrets);
      } catch (err) {
        throw passThrough(err);
      }
    };

    api.post(`${parent.prefix}/variables`, async (req, reply) =>
      created(reply, await writeVariable(req)),
    );

    api.put(`${parent.prefix}/variables/:variablename`, async (req) =>
      writeVariable(req, param(req, 'variablename')),
    );

    api.delete(`${parent.prefix}/variables/:variablename`, async (req, reply) => {
      const id = await ownedParent(ctx, req, kind, param(req, parent.param));
      try {
        await ctx.configstore.deleteVariable(kind, id, param(req, 'variablename'));
      } catch (err) {
        throw passThrough(err);
      }
      return noContent(reply);
    });
  }
}

import type { FastifyInstance } from 'fastify';
import { forbidden } from '@agola-ts/errors';
import { created, noContent } from '@agola-ts/service-kit';
import type { ProjectGroupResponse, Visibility } from '@agola-ts/types';
import { requireAuth } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import {
  canGetProject,
  canGetProjectGroup,
  canUpdateProjectGroup,
  loadOwnedProjectGroup,
  loadProjectGroup,
} from '../permissions.js';
import {
  bodyOf,
  optString,
  param,
  requiredString,
  str,
  validName,
  visibilityOf,
} from '../request.js';
import { projectGroupResponse, projectResponse } from '../responses.js';

/** The project group `ref` if the caller owns it (the parent of something being created or moved). */
export async function ownedParentGroup(
  ctx: GatewayContext,
  req: Parameters<typeof loadProjectGroup>[1],
  ref: string,
): Promise<ProjectGroupResponse> {
  let pg: ProjectGroupResponse;
  try {
    pg = await ctx.configstore.getProjectGroup(ref);
  } catch (err) {
    throw passThrough(err);
  }
  if (!(await canUpdateProjectGroup(ctx, req, pg))) {
    throw forbidden('user not authorized: owner of the parent project group required', {
      code: GatewayErrorCodes.Forbidden,
    });
  }
  return pg;
}

/**
 * The project group routes: `GET|PUT|DELETE /projectgroups/{ref}`, `POST /projectgroups`,
 * `GET /projectgroups/{ref}/subgroups` and `/projects` (only what the caller may read).
 */
export function registerProjectGroupRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  api.get('/projectgroups/:projectgroupref', async (req) => {
    requireAuth(req);
    return projectGroupResponse(await loadProjectGroup(ctx, req, param(req, 'projectgroupref')));
  });

  api.get('/projectgroups/:projectgroupref/subgroups', async (req) => {
    requireAuth(req);
    const pg = await loadProjectGroup(ctx, req, param(req, 'projectgroupref'));
    let groups: ProjectGroupResponse[];
    try {
      groups = await ctx.configstore.getProjectGroupSubgroups(pg.id);
    } catch (err) {
      throw passThrough(err);
    }
    const out = [];
    for (const g of groups)
      if (await canGetProjectGroup(ctx, req, g)) out.push(projectGroupResponse(g));
    return out;
  });

  api.get('/projectgroups/:projectgroupref/projects', async (req) => {
    requireAuth(req);
    const pg = await loadProjectGroup(ctx, req, param(req, 'projectgroupref'));
    let projects;
    try {
      projects = await ctx.configstore.getProjectGroupProjects(pg.id);
    } catch (err) {
      throw passThrough(err);
    }
    const out = [];
    for (const p of projects) if (await canGetProject(ctx, req, p)) out.push(projectResponse(p));
    return out;
  });

  api.post('/projectgroups', async (req, reply) => {
    requireAuth(req);
    const body = bodyOf(req);
    const name = validName(str(body, 'name'), 'projectGroup');
    const parent = await ownedParentGroup(
      ctx,
      req,
      requiredString(body, 'parent_ref', 'parent ref'),
    );
    try {
      const pg = await ctx.configstore.createProjectGroup({
        Name: name,
        Parent: { type: 'projectgroup', id: parent.id },
        Visibility: (visibilityOf(body) ?? str(body, 'visibility')) as Visibility,
      });
      return created(reply, projectGroupResponse(pg));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.put('/projectgroups/:projectgroupref', async (req, reply) => {
    requireAuth(req);
    const body = bodyOf(req);
    const pg = await loadOwnedProjectGroup(ctx, req, param(req, 'projectgroupref'));
    const name = optString(body, 'name');
    const parentRef = optString(body, 'parent_ref');
    const visibility = visibilityOf(body);
    let parentId = pg.parent.id;
    if (parentRef !== undefined && pg.parent.type === 'projectgroup') {
      // moving into another group needs ownership of that group too
      parentId = (await ownedParentGroup(ctx, req, parentRef)).id;
    }
    try {
      const updated = await ctx.configstore.updateProjectGroup(pg.id, {
        Name: name ?? pg.name ?? '',
        Parent: { type: pg.parent.type, id: parentId },
        Visibility: visibility ?? pg.visibility,
      });
      return created(reply, projectGroupResponse(updated));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/projectgroups/:projectgroupref', async (req, reply) => {
    requireAuth(req);
    const pg = await loadOwnedProjectGroup(ctx, req, param(req, 'projectgroupref'));
    try {
      await ctx.configstore.deleteProjectGroup(pg.id);
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });
}

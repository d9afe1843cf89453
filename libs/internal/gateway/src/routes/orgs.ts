import type { FastifyInstance } from 'fastify';
import { forbidden } from '@agola-ts/errors';
import { created, noContent } from '@agola-ts/service-kit';
import { isMemberRole, type Org, type User, type Visibility } from '@agola-ts/types';
import { requireAuth } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import { isOrgOwner } from '../permissions.js';
import { bodyOf, listOptionsOf, param, requiredString, str, validName } from '../request.js';
import { orgResponse, userResponse } from '../responses.js';
import { badRequest } from '@agola-ts/errors';

async function getOrg(ctx: GatewayContext, ref: string): Promise<Org> {
  try {
    return await ctx.configstore.getOrg(ref);
  } catch (err) {
    throw passThrough(err);
  }
}

const notOwner = () =>
  forbidden('user not authorized: org owner required', { code: GatewayErrorCodes.Forbidden });

/**
 * The org routes: `GET|POST /orgs`, `GET|DELETE /orgs/{ref}`, `GET /orgs/{ref}/members`,
 * `PUT|DELETE /orgs/{ref}/members/{userref}`.
 */
export function registerOrgRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  api.get('/orgs/:orgref', async (req) => {
    requireAuth(req);
    return orgResponse(await getOrg(ctx, param(req, 'orgref')));
  });

  api.get('/orgs', async (req) => {
    requireAuth(req);
    try {
      return (await ctx.configstore.getOrgs(listOptionsOf(req))).map(orgResponse);
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.post('/orgs', async (req, reply) => {
    const auth = requireAuth(req);
    const body = bodyOf(req);
    const name = validName(requiredString(body, 'name', 'organization name'), 'organization');
    try {
      const org = await ctx.configstore.createOrg({
        Name: name,
        // an empty or unknown visibility is refused by the configstore (400)
        Visibility: str(body, 'visibility') as Visibility,
        ...(auth.user ? { CreatorUserID: auth.user.id } : {}),
      });
      return created(reply, orgResponse(org));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/orgs/:orgref', async (req, reply) => {
    requireAuth(req);
    const org = await getOrg(ctx, param(req, 'orgref'));
    if (!(await isOrgOwner(ctx, req, org.id))) throw notOwner();
    try {
      await ctx.configstore.deleteOrg(org.id);
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });

  api.get('/orgs/:orgref/members', async (req) => {
    requireAuth(req);
    const org = await getOrg(ctx, param(req, 'orgref'));
    try {
      const members = await ctx.configstore.getOrgMembers(org.id);
      return {
        organization: orgResponse(org),
        members: members.map((m) => ({ user: userResponse(m.User), role: m.Role })),
      };
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.put('/orgs/:orgref/members/:userref', async (req) => {
    requireAuth(req);
    const role = str(bodyOf(req), 'role');
    if (!isMemberRole(role)) {
      throw badRequest(`invalid role ${JSON.stringify(role.slice(0, 50))}`, {
        code: GatewayErrorCodes.InvalidRequest,
      });
    }
    const org = await getOrg(ctx, param(req, 'orgref'));
    let user: User;
    try {
      user = await ctx.configstore.getUser(param(req, 'userref'));
    } catch (err) {
      throw passThrough(err);
    }
    if (!(await isOrgOwner(ctx, req, org.id))) throw notOwner();
    try {
      const member = await ctx.configstore.addOrgMember(org.id, user.id, { Role: role });
      return { organization: orgResponse(org), user: userResponse(user), role: member.member_role };
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/orgs/:orgref/members/:userref', async (req, reply) => {
    requireAuth(req);
    const org = await getOrg(ctx, param(req, 'orgref'));
    if (!(await isOrgOwner(ctx, req, org.id))) throw notOwner();
    try {
      await ctx.configstore.removeOrgMember(org.id, param(req, 'userref'));
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });
}

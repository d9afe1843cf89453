import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import {
  isMemberRole,
  isVisibility,
  type Org,
  type OrgMember,
  type OrgMemberResponse,
  type ProjectGroup,
} from '@agola-ts/types';
import { objectBody, optString, reqName } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { del, newId, put } from './entities.js';
import { deleteSubtrees } from './hierarchy.js';
import { alreadyExists, invalid, missing, notFound } from './errors.js';
import { queries } from './readdb.js';
import { orgByRef, pageQuery, userByRef } from './refs.js';
import type { Mutation, Store } from './store.js';
import { dropUndefined } from './users.js';

type Params = Record<string, string>;

async function existingOrg(tx: Tx, ref: string): Promise<Org> {
  const org = await orgByRef(tx, ref);
  if (!org) throw missing(`org ${JSON.stringify(ref)} doesn't exist`);
  return org;
}

/** The org and org member routes of reference §6.4. */
export function registerOrgRoutes(api: FastifyInstance, store: Store): void {
  api.get<{ Params: Params }>('/orgs/:orgref', async (req) => {
    const ref = req.params['orgref'] ?? '';
    const org = await store.read((tx) => orgByRef(tx, ref));
    if (!org) throw notFound(`org ${JSON.stringify(ref)} doesn't exist`);
    return org;
  });

  api.get('/orgs', async (req) => {
    const page = pageQuery(req.query as Record<string, unknown>);
    return store.read((tx) => queries.orgs(tx, page));
  });

  api.post('/orgs', async (req, reply) => {
    const body = objectBody(req.body);
    const name = reqName(body, 'Name', 'org');
    const visibility = body['Visibility'];
    if (!isVisibility(visibility)) {
      throw invalid('Visibility must be "public" or "private"');
    }
    const creatorRef = optString(body, 'CreatorUserID');
    const org = await store.mutate(async (tx): Promise<Mutation<Org>> => {
      if (await queries.orgByName(tx, name)) {
        throw alreadyExists(`org with name ${JSON.stringify(name)} already exists`);
      }
      const org: Org = dropUndefined<Org>({
        id: newId(),
        name,
        visibility,
        creator_user_id: undefined,
        created_at: new Date().toISOString(),
      });
      const groups = [cg.orgName(name)];
      const actions = [];
      if (creatorRef !== undefined && creatorRef !== '') {
        const creator = await userByRef(tx, creatorRef);
        if (!creator) {
          throw missing(`CreatorUserID: user ${JSON.stringify(creatorRef)} doesn't exist`);
        }
        org.creator_user_id = creator.id;
        const member: OrgMember = {
          id: newId(),
          organization_id: org.id,
          user_id: creator.id,
          member_role: 'owner',
        };
        groups.push(cg.userId(creator.id));
        actions.push(put('orgmember', member.id, member));
      }
      // as Agola writes it: no name key (omitempty)
      const root: ProjectGroup = {
        id: newId(),
        parent: { type: 'org', id: org.id },
        visibility,
      };
      actions.unshift(put('org', org.id, org));
      actions.push(put('projectgroup', root.id, root));
      return { groups, actions, result: org };
    });
    return created(reply, org);
  });

  api.delete<{ Params: Params }>('/orgs/:orgref', async (req, reply) => {
    const ref = req.params['orgref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const org = await existingOrg(tx, ref);
      // beyond Agola: no orphans, the org's project groups (with their projects, secrets and
      // variables) and memberships go with it
      const subtree = await deleteSubtrees(
        tx,
        await queries.projectGroupsOfParent(tx, 'org', org.id),
      );
      const members = await queries.orgMembersOfOrg(tx, org.id);
      return {
        groups: [
          cg.orgName(org.name),
          cg.orgId(org.id),
          ...members.map((m) => cg.orgMember(m.organization_id, m.user_id)),
          ...subtree.groups,
        ],
        actions: [
          del('org', org.id),
          ...subtree.actions,
          ...members.map((m) => del('orgmember', m.id)),
        ],
        result: undefined,
      };
    });
    return noContent(reply);
  });

  api.get<{ Params: Params }>('/orgs/:orgref/members', async (req) => {
    const ref = req.params['orgref'] ?? '';
    return store.read(async (tx): Promise<OrgMemberResponse[]> => {
      const org = await orgByRef(tx, ref);
      if (!org) throw notFound(`org ${JSON.stringify(ref)} doesn't exist`);
      const out: OrgMemberResponse[] = [];
      for (const m of await queries.orgMembersOfOrg(tx, org.id)) {
        const user = await queries.userById(tx, m.user_id);
        if (user) out.push({ User: user, Role: m.member_role });
      }
      return out;
    });
  });

  api.put<{ Params: Params }>('/orgs/:orgref/members/:userref', async (req, reply) => {
    const orgRef = req.params['orgref'] ?? '';
    const userRef = req.params['userref'] ?? '';
    const body = objectBody(req.body);
    const role = body['Role'];
    if (!isMemberRole(role)) throw invalid('Role must be "owner" or "member"');
    const member = await store.mutate(async (tx): Promise<Mutation<OrgMember>> => {
      const org = await existingOrg(tx, orgRef);
      const user = await userByRef(tx, userRef);
      if (!user) throw missing(`user ${JSON.stringify(userRef)} doesn't exist`);
      const current = await queries.orgMember(tx, org.id, user.id);
      if (current && current.member_role === role) {
        // unchanged: answer the existing member, writing nothing
        return { groups: [], actions: [], result: current };
      }
      const member: OrgMember = current
        ? { ...current, member_role: role }
        : { id: newId(), organization_id: org.id, user_id: user.id, member_role: role };
      return {
        groups: [cg.orgMember(org.id, user.id), cg.orgId(org.id), cg.userId(user.id)],
        actions: [put('orgmember', member.id, member)],
        result: member,
      };
    });
    return created(reply, member);
  });

  api.delete<{ Params: Params }>('/orgs/:orgref/members/:userref', async (req, reply) => {
    const orgRef = req.params['orgref'] ?? '';
    const userRef = req.params['userref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const org = await existingOrg(tx, orgRef);
      const user = await userByRef(tx, userRef);
      if (!user) throw missing(`user ${JSON.stringify(userRef)} doesn't exist`);
      const current = await queries.orgMember(tx, org.id, user.id);
      if (!current) {
        throw missing(`user ${user.name} is not a member of org ${org.name}`);
      }
      return {
        groups: [cg.orgMember(org.id, user.id)],
        actions: [del('orgmember', current.id)],
        result: undefined,
      };
    });
    return noContent(reply);
  });
}

import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import type {
  LinkedAccount,
  OrgMember,
  ProjectGroup,
  User,
  UserOrgsResponse,
} from '@agola-ts/types';
import { objectBody, optString, optTime, reqName, reqString } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { del, newId, put, randomSecret } from './entities.js';
import { deleteSubtrees } from './hierarchy.js';
import { alreadyExists, invalid, missing, notFound } from './errors.js';
import { queries } from './readdb.js';
import { orgByRef, pageQuery, queryString, remoteSourceByRef, userByRef } from './refs.js';
import type { Mutation, Store } from './store.js';

type Params = Record<string, string>;

async function existingUser(tx: Tx, ref: string): Promise<User> {
  const user = await userByRef(tx, ref);
  if (!user) throw missing(`user ${JSON.stringify(ref)} doesn't exist`);
  return user;
}

/** Reads the linked-account fields of a create request (with or without a user). */
async function newLinkedAccount(
  tx: Tx,
  body: Record<string, unknown>,
  prefix: string,
): Promise<LinkedAccount> {
  const rsName = reqString(body, 'remote_source_name');
  const remoteUserId = reqString(body, 'remote_user_id');
  const rs = await remoteSourceByRef(tx, rsName);
  if (!rs) throw missing(`${prefix}remote source ${JSON.stringify(rsName)} doesn't exist`);
  const linked = await queries.userByRemoteUser(tx, rs.id, remoteUserId);
  if (linked) {
    throw alreadyExists(
      `user for remote user id ${JSON.stringify(remoteUserId)} for remote source ${JSON.stringify(rs.name)} already exists`,
    );
  }
  return dropUndefined({
    id: newId(),
    remote_user_id: remoteUserId,
    remote_username: optString(body, 'remote_user_name'),
    remote_user_avatar_url: optString(body, 'remote_user_avatar_url'),
    remote_source_id: rs.id,
    user_access_token: optString(body, 'user_access_token'),
    oauth2_access_token: optString(body, 'oauth2_access_token'),
    oauth2_refresh_token: optString(body, 'oauth2_refresh_token'),
    oauth_2_access_token_expires_at: optTime(body, 'oauth_2_access_token_expires_at'),
  });
}

/**
 * The user's linked account with this id, or undefined. An own-property check: the id comes
 * from the request, and `constructor` or `toString` are not linked accounts.
 */
export function linkedAccountOf(user: User, laId: string): LinkedAccount | undefined {
  const las = user.linked_accounts;
  return las && Object.hasOwn(las, laId) ? las[laId] : undefined;
}

/** Drops undefined fields (Agola's omitempty). */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The user routes of reference §6.4. */
export function registerUserRoutes(api: FastifyInstance, store: Store): void {
  api.get<{ Params: Params }>('/users/:userref', async (req) => {
    const ref = req.params['userref'] ?? '';
    const user = await store.read((tx) => userByRef(tx, ref));
    if (!user) throw notFound(`user ${JSON.stringify(ref)} doesn't exist`);
    return user;
  });

  api.get('/users', async (req) => {
    const query = req.query as Record<string, unknown>;
    const queryType = queryString(query, 'query_type');
    if (queryType === undefined || queryType === '') {
      const page = pageQuery(query);
      return store.read((tx) => queries.users(tx, page));
    }
    const param = (name: string): string => {
      const v = queryString(query, name);
      if (v === undefined || v === '') throw invalid(`query parameter ${name} is required`);
      return v;
    };
    let user: User | undefined;
    switch (queryType) {
      case 'bytoken': {
        const token = param('token');
        user = await store.read((tx) => queries.userByToken(tx, token));
        break;
      }
      case 'bylinkedaccount': {
        const laId = param('linkedaccountid');
        user = await store.read((tx) => queries.userByLinkedAccount(tx, laId));
        break;
      }
      case 'byremoteuser': {
        const remoteUserId = param('remoteuserid');
        const remoteSourceId = param('remotesourceid');
        user = await store.read((tx) => queries.userByRemoteUser(tx, remoteSourceId, remoteUserId));
        break;
      }
      default:
        throw invalid(`unknown query_type ${JSON.stringify(queryType)}`);
    }
    if (!user) throw notFound(`no user matches query_type ${queryType}`);
    return [user];
  });

  api.post('/users', async (req, reply) => {
    const body = objectBody(req.body);
    const name = reqName(body, 'user_name', 'user');
    const laBody =
      body['create_user_la_request'] === undefined || body['create_user_la_request'] === null
        ? undefined
        : objectBody(body['create_user_la_request'], 'create_user_la_request');
    const user = await store.mutate(async (tx): Promise<Mutation<User>> => {
      if (await queries.userByName(tx, name)) {
        throw alreadyExists(`user with name ${JSON.stringify(name)} already exists`);
      }
      const user: User = { id: newId(), name, secret: randomSecret() };
      const groups = [cg.userName(name)];
      if (laBody) {
        const la = await newLinkedAccount(tx, laBody, 'create_user_la_request: ');
        user.linked_accounts = { [la.id]: la };
        groups.push(cg.remoteSourceId(la.remote_source_id ?? ''));
      }
      // as Agola writes it: no name key (omitempty)
      const root: ProjectGroup = {
        id: newId(),
        parent: { type: 'user', id: user.id },
        visibility: 'public',
      };
      return {
        groups,
        actions: [put('user', user.id, user), put('projectgroup', root.id, root)],
        result: user,
      };
    });
    return created(reply, user);
  });

  api.put<{ Params: Params }>('/users/:userref', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const body = objectBody(req.body);
    const name = reqName(body, 'user_name', 'user');
    const user = await store.mutate(async (tx): Promise<Mutation<User>> => {
      const user = await existingUser(tx, ref);
      if (name !== user.name && (await queries.userByName(tx, name))) {
        throw alreadyExists(`user with name ${JSON.stringify(name)} already exists`);
      }
      const updated: User = { ...user, name };
      return {
        groups: [cg.userName(user.name), cg.userName(name), cg.userId(user.id)],
        actions: [put('user', user.id, updated)],
        result: updated,
      };
    });
    return created(reply, user);
  });

  api.delete<{ Params: Params }>('/users/:userref', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const user = await existingUser(tx, ref);
      // beyond Agola: no orphans, the user's project groups (with their projects, secrets and
      // variables) and memberships go with it
      const subtree = await deleteSubtrees(
        tx,
        await queries.projectGroupsOfParent(tx, 'user', user.id),
      );
      const members = await queries.orgMembersOfUser(tx, user.id);
      return {
        groups: [
          cg.userName(user.name),
          cg.userId(user.id),
          ...members.map((m) => cg.orgMember(m.organization_id, m.user_id)),
          ...subtree.groups,
        ],
        actions: [
          del('user', user.id),
          ...subtree.actions,
          ...members.map((m) => del('orgmember', m.id)),
        ],
        result: undefined,
      };
    });
    return noContent(reply);
  });

  api.post<{ Params: Params }>('/users/:userref/linkedaccounts', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const body = objectBody(req.body);
    const la = await store.mutate(async (tx): Promise<Mutation<LinkedAccount>> => {
      const user = await existingUser(tx, ref);
      const la = await newLinkedAccount(tx, body, '');
      const updated: User = {
        ...user,
        linked_accounts: { ...(user.linked_accounts ?? {}), [la.id]: la },
      };
      return {
        groups: [cg.userId(user.id), cg.remoteSourceId(la.remote_source_id ?? '')],
        actions: [put('user', user.id, updated)],
        result: la,
      };
    });
    return created(reply, la);
  });

  api.put<{ Params: Params }>('/users/:userref/linkedaccounts/:laid', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const laId = req.params['laid'] ?? '';
    const body = objectBody(req.body);
    const fields = dropUndefined<Partial<LinkedAccount>>({
      remote_user_id: optString(body, 'remote_user_id'),
      remote_username: optString(body, 'remote_user_name'),
      remote_user_avatar_url: optString(body, 'remote_user_avatar_url'),
      user_access_token: optString(body, 'user_access_token'),
      oauth2_access_token: optString(body, 'oauth2_access_token'),
      oauth2_refresh_token: optString(body, 'oauth2_refresh_token'),
      oauth_2_access_token_expires_at: optTime(body, 'oauth_2_access_token_expires_at'),
    });
    const la = await store.mutate(async (tx): Promise<Mutation<LinkedAccount>> => {
      const user = await existingUser(tx, ref);
      const current = linkedAccountOf(user, laId);
      if (!current) {
        throw missing(`linked account ${JSON.stringify(laId)} of user ${user.name} doesn't exist`);
      }
      const la: LinkedAccount = { ...current, ...fields, id: current.id };
      const updated: User = {
        ...user,
        linked_accounts: { ...(user.linked_accounts ?? {}), [la.id]: la },
      };
      return { groups: [cg.userId(user.id)], actions: [put('user', user.id, updated)], result: la };
    });
    return reply.code(200).send(la);
  });

  api.delete<{ Params: Params }>('/users/:userref/linkedaccounts/:laid', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const laId = req.params['laid'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const user = await existingUser(tx, ref);
      if (!linkedAccountOf(user, laId)) {
        throw missing(`linked account ${JSON.stringify(laId)} of user ${user.name} doesn't exist`);
      }
      const linked = { ...user.linked_accounts };
      delete linked[laId];
      const updated: User = { ...user, linked_accounts: linked };
      return {
        groups: [cg.userId(user.id)],
        actions: [put('user', user.id, updated)],
        result: undefined,
      };
    });
    return noContent(reply);
  });

  api.post<{ Params: Params }>('/users/:userref/tokens', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const body = objectBody(req.body);
    const tokenName = reqName(body, 'token_name', 'token');
    const token = await store.mutate(async (tx): Promise<Mutation<string>> => {
      const user = await existingUser(tx, ref);
      if (user.tokens && Object.hasOwn(user.tokens, tokenName)) {
        throw alreadyExists(
          `token with name ${JSON.stringify(tokenName)} for user ${user.name} already exists`,
        );
      }
      const value = randomSecret();
      const updated: User = { ...user, tokens: { ...(user.tokens ?? {}), [tokenName]: value } };
      return {
        groups: [cg.userId(user.id)],
        actions: [put('user', user.id, updated)],
        result: value,
      };
    });
    return created(reply, { token });
  });

  api.delete<{ Params: Params }>('/users/:userref/tokens/:tokenname', async (req, reply) => {
    const ref = req.params['userref'] ?? '';
    const tokenName = req.params['tokenname'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const user = await existingUser(tx, ref);
      if (!user.tokens || !Object.hasOwn(user.tokens, tokenName)) {
        throw missing(
          `token with name ${JSON.stringify(tokenName)} for user ${user.name} doesn't exist`,
        );
      }
      const tokens = { ...user.tokens };
      delete tokens[tokenName];
      return {
        groups: [cg.userId(user.id)],
        actions: [put('user', user.id, { ...user, tokens })],
        result: undefined,
      };
    });
    return noContent(reply);
  });

  api.get<{ Params: Params }>('/users/:userref/orgs', async (req) => {
    const ref = req.params['userref'] ?? '';
    return store.read(async (tx): Promise<UserOrgsResponse[]> => {
      const user = await userByRef(tx, ref);
      if (!user) throw notFound(`user ${JSON.stringify(ref)} doesn't exist`);
      const members: OrgMember[] = await queries.orgMembersOfUser(tx, user.id);
      const out: UserOrgsResponse[] = [];
      for (const m of members) {
        const org = await orgByRef(tx, m.organization_id);
        if (org) out.push({ Organization: org, Role: m.member_role });
      }
      return out;
    });
  });
}

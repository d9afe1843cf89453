import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '@agola-ts/errors';
import { created, noContent } from '@agola-ts/service-kit';
import type { User } from '@agola-ts/types';
import { requireAdmin, requireAuth, requireUser } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import { gitSourceFailure, handleRemoteSourceAuth } from '../remote-auth.js';
import { bodyOf, listOptionsOf, param, requiredString, str, validName } from '../request.js';
import { linkedAccountResponse, orgResponse, userResponse } from '../responses.js';
import { gitSourceForAccount } from '../runs/git-source.js';

async function getUser(ctx: GatewayContext, ref: string): Promise<User> {
  try {
    return await ctx.configstore.getUser(ref);
  } catch (err) {
    throw passThrough(err);
  }
}

/** The admin, or the user `ref` itself. @throws 403 for anyone else. */
async function selfOrAdmin(
  ctx: GatewayContext,
  req: FastifyRequest,
  ref: string,
  what: string,
): Promise<User> {
  requireAuth(req);
  const user = await getUser(ctx, ref);
  if (!req.auth.isAdmin && req.auth.user?.id !== user.id) {
    throw forbidden(`logged in user cannot ${what} for another user`, {
      code: GatewayErrorCodes.Forbidden,
    });
  }
  return user;
}

/**
 * The user routes: `GET /user`, `GET /user/orgs`, `GET /user/remoterepos/{rs}`,
 * `GET|POST /users`, `GET|DELETE /users/{ref}`, linked accounts and tokens.
 */
export function registerUserRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  api.get('/user', async (req) => userResponse(requireUser(req)));

  api.get('/user/orgs', async (req) => {
    const user = requireUser(req);
    try {
      const orgs = await ctx.configstore.getUserOrgs(user.id);
      return orgs.map((o) => ({ Organization: orgResponse(o.Organization), Role: o.Role }));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.get('/user/remoterepos/:remotesourceref', async (req) => {
    const user = requireUser(req);
    let rs;
    try {
      rs = await ctx.configstore.getRemoteSource(param(req, 'remotesourceref'));
    } catch (err) {
      throw passThrough(err);
    }
    const la = Object.values(user.linked_accounts ?? {}).find((l) => l.remote_source_id === rs.id);
    if (!la) {
      throw badRequest(
        `user doesn't have a linked account for remote source ${JSON.stringify(rs.name)}`,
        {
          code: GatewayErrorCodes.InvalidRequest,
        },
      );
    }
    const source = await gitSourceForAccount(ctx.configstore, rs, user.id, la, {
      onSaved: () => ctx.cache.clear(),
    });
    try {
      const repos = await source.listUserRepos();
      return repos.map((r) => ({ id: r.id, path: r.path }));
    } catch (err) {
      throw gitSourceFailure(err, 'listing the remote repositories');
    }
  });

  api.get('/users/:userref', async (req) => {
    requireAuth(req);
    return userResponse(await getUser(ctx, param(req, 'userref')));
  });

  api.get('/users', async (req) => {
    requireAdmin(req);
    try {
      const users = await ctx.configstore.getUsers(listOptionsOf(req));
      return users.map(userResponse);
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.post('/users', async (req, reply) => {
    requireAdmin(req);
    const body = bodyOf(req);
    const name = validName(requiredString(body, 'username', 'user name'), 'user');
    try {
      return created(reply, userResponse(await ctx.configstore.createUser({ user_name: name })));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/users/:userref', async (req, reply) => {
    requireAdmin(req);
    try {
      await ctx.configstore.deleteUser(param(req, 'userref'));
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });

  api.post('/users/:userref/linkedaccounts', async (req, reply) => {
    const caller = requireUser(req);
    const body = bodyOf(req);
    const user = await getUser(ctx, param(req, 'userref'));
    if (user.id !== caller.id) {
      throw forbidden('logged in user cannot create linked account for another user', {
        code: GatewayErrorCodes.Forbidden,
      });
    }
    const remoteSourceName = requiredString(body, 'remote_source_name', 'remote source name');
    const res = await handleRemoteSourceAuth(
      ctx,
      'createuserla',
      { remoteSourceName, userRef: user.id },
      {
        loginName: str(body, 'remote_source_login_name'),
        password: str(body, 'remote_source_login_password'),
      },
    );
    const la =
      res.response?.requestType === 'createuserla' ? res.response.linkedAccount : undefined;
    return created(reply, {
      linked_account: la ? linkedAccountResponse(la) : null,
      oauth2_redirect: res.oauth2Redirect ?? '',
    });
  });

  api.delete('/users/:userref/linkedaccounts/:laid', async (req, reply) => {
    const user = await selfOrAdmin(ctx, req, param(req, 'userref'), 'delete a linked account');
    try {
      await ctx.configstore.deleteUserLA(user.id, param(req, 'laid'));
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });

  api.post('/users/:userref/tokens', async (req, reply) => {
    const user = await selfOrAdmin(ctx, req, param(req, 'userref'), 'create a token');
    const tokenName = requiredString(bodyOf(req), 'token_name', 'token name');
    if (Object.hasOwn(user.tokens ?? {}, tokenName)) {
      throw badRequest(
        `user ${JSON.stringify(user.name)} already has a token named ${JSON.stringify(tokenName)}`,
        {
          code: GatewayErrorCodes.InvalidRequest,
        },
      );
    }
    try {
      const res = await ctx.configstore.createUserToken(user.id, tokenName);
      return created(reply, { token: res.token });
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/users/:userref/tokens/:tokenname', async (req, reply) => {
    const user = await selfOrAdmin(ctx, req, param(req, 'userref'), 'delete a token');
    try {
      await ctx.configstore.deleteUserToken(user.id, param(req, 'tokenname'));
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });
}

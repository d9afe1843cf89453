import type { FastifyInstance } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import { created } from '@agola-ts/service-kit';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import {
  handleOAuth2Callback,
  handleRemoteSourceAuth,
  type RemoteSourceAuthResult,
} from '../remote-auth.js';
import { bodyOf, queryString, requiredString, str, validName } from '../request.js';
import { linkedAccountResponse, userResponse } from '../responses.js';

/** The JSON of a completed flow, as Agola's OAuth2 callback answers it (`response`). */
function flowResponse(res: RemoteSourceAuthResult): unknown {
  switch (res.requestType) {
    case 'createuserla':
      return { LinkedAccount: linkedAccountResponse(res.linkedAccount) };
    case 'registeruser':
      return { user: userResponse(res.user) };
    case 'loginuser':
      return { Token: res.token, User: res.userResponse };
    case 'authorize':
      return {
        RemoteUserInfo: {
          ID: res.remoteUserInfo.id,
          LoginName: res.remoteUserInfo.loginName,
          Email: res.remoteUserInfo.email,
        },
        RemoteSourceName: res.remoteSourceName,
      };
  }
}

/**
 * The unauthenticated login routes: `POST /auth/login`, `/auth/register`, `/auth/authorize`
 * and `GET /auth/oauth2/callback`.
 */
export function registerAuthRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  api.post('/auth/login', async (req, reply) => {
    const body = bodyOf(req);
    const remoteSourceName = requiredString(body, 'remote_source_name', 'remote source name');
    const res = await handleRemoteSourceAuth(
      ctx,
      'loginuser',
      { remoteSourceName },
      { loginName: str(body, 'login_name'), password: str(body, 'password') },
    );
    const r = res.response?.requestType === 'loginuser' ? res.response : undefined;
    return created(reply, {
      oauth2_redirect: res.oauth2Redirect ?? '',
      token: r?.token ?? '',
      user: r?.userResponse ?? null,
    });
  });

  api.post('/auth/authorize', async (req, reply) => {
    const body = bodyOf(req);
    const remoteSourceName = requiredString(body, 'remote_source_name', 'remote source name');
    const res = await handleRemoteSourceAuth(
      ctx,
      'authorize',
      { remoteSourceName },
      { loginName: str(body, 'login_name'), password: str(body, 'password') },
    );
    const r = res.response?.requestType === 'authorize' ? res.response : undefined;
    return created(reply, {
      oauth2_redirect: res.oauth2Redirect ?? '',
      remote_user_info: r
        ? {
            ID: r.remoteUserInfo.id,
            LoginName: r.remoteUserInfo.loginName,
            Email: r.remoteUserInfo.email,
          }
        : null,
      remote_source_name: r?.remoteSourceName ?? '',
    });
  });

  api.post('/auth/register', async (req, reply) => {
    const body = bodyOf(req);
    const userName = validName(requiredString(body, 'username', 'user name'), 'user');
    const remoteSourceName = requiredString(body, 'remote_source_name', 'remote source name');
    const res = await handleRemoteSourceAuth(
      ctx,
      'registeruser',
      { remoteSourceName, userName },
      {
        loginName: str(body, 'remote_source_login_name'),
        password: str(body, 'remote_source_login_password'),
      },
    );
    return created(reply, { oauth2_redirect: res.oauth2Redirect ?? '' });
  });

  api.get('/auth/oauth2/callback', async (req) => {
    const code = queryString(req, 'code') ?? '';
    const state = queryString(req, 'state') ?? '';
    if (code === '' || state === '') {
      throw badRequest('code and state required', { code: GatewayErrorCodes.InvalidRequest });
    }
    const res = await handleOAuth2Callback(ctx, code, state);
    return { request_type: res.requestType, response: flowResponse(res) };
  });
}

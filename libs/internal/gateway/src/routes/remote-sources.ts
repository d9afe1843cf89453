import type { FastifyInstance } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import { created, noContent } from '@agola-ts/service-kit';
import {
  isAuthTypeSupported,
  REMOTE_SOURCE_AUTH_TYPES,
  REMOTE_SOURCE_TYPES,
  type CreateUpdateRemoteSourceRequest,
  type RemoteSource,
  type RemoteSourceAuthType,
  type RemoteSourceType,
} from '@agola-ts/types';
import { requireAdmin, requireAuth } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import { bodyOf, listOptionsOf, optBool, optString, param, str, validName } from '../request.js';
import { remoteSourceResponse } from '../responses.js';

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest });

function checkRequest(r: CreateUpdateRemoteSourceRequest): void {
  if (r.Name === '') throw invalid('remotesource name required');
  validName(r.Name, 'remotesource');
  if (r.APIURL === '') throw invalid('remotesource api url required');
  if (!/^https?:\/\//i.test(r.APIURL)) throw invalid('remotesource api url must be an http(s) URL');
  if (!(REMOTE_SOURCE_TYPES as readonly string[]).includes(r.Type)) {
    throw invalid('remotesource type required (gitea, github or gitlab)');
  }
  if (!(REMOTE_SOURCE_AUTH_TYPES as readonly string[]).includes(r.AuthType)) {
    throw invalid('remotesource auth type required (password or oauth2)');
  }
  if (!isAuthTypeSupported(r.Type, r.AuthType)) {
    throw invalid(`remotesource type ${r.Type} doesn't support auth type ${r.AuthType}`);
  }
  if (r.AuthType === 'oauth2') {
    if (!r.Oauth2ClientID) throw invalid('remotesource oauth2 clientid required');
    if (!r.Oauth2ClientSecret) throw invalid('remotesource oauth2 client secret required');
  }
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/**
 * The remote source routes: `GET /remotesources` (auth optional), `GET /remotesources/{ref}`,
 * and the admin-only `POST`, `PUT`, `DELETE`.
 */
export function registerRemoteSourceRoutes(api: FastifyInstance, ctx: GatewayContext): void {
  api.get('/remotesources/:remotesourceref', async (req) => {
    requireAuth(req);
    try {
      return remoteSourceResponse(
        await ctx.configstore.getRemoteSource(param(req, 'remotesourceref')),
      );
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.get('/remotesources', async (req) => {
    try {
      return (await ctx.configstore.getRemoteSources(listOptionsOf(req))).map(remoteSourceResponse);
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.post('/remotesources', async (req, reply) => {
    requireAdmin(req);
    const b = bodyOf(req);
    const r: CreateUpdateRemoteSourceRequest = {
      Name: str(b, 'name'),
      APIURL: str(b, 'apiurl'),
      Type: str(b, 'type') as RemoteSourceType,
      AuthType: str(b, 'auth_type') as RemoteSourceAuthType,
      SkipVerify: optBool(b, 'skip_verify') ?? false,
      ...optional('Oauth2ClientID', optString(b, 'oauth_2_client_id')),
      ...optional('Oauth2ClientSecret', optString(b, 'oauth_2_client_secret')),
      ...optional('SSHHostKey', optString(b, 'ssh_host_key')),
      SkipSSHHostKeyCheck: optBool(b, 'skip_ssh_host_key_check') ?? false,
      RegistrationEnabled: optBool(b, 'registration_enabled') ?? true,
      LoginEnabled: optBool(b, 'login_enabled') ?? true,
    };
    checkRequest(r);
    try {
      return created(reply, remoteSourceResponse(await ctx.configstore.createRemoteSource(r)));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.put('/remotesources/:remotesourceref', async (req, reply) => {
    requireAdmin(req);
    const b = bodyOf(req);
    let rs: RemoteSource;
    try {
      rs = await ctx.configstore.getRemoteSource(param(req, 'remotesourceref'));
    } catch (err) {
      throw passThrough(err);
    }
    const r: CreateUpdateRemoteSourceRequest = {
      Name: optString(b, 'name') ?? rs.name,
      APIURL: optString(b, 'apiurl') ?? rs.apiurl,
      Type: rs.type,
      AuthType: rs.auth_type,
      SkipVerify: optBool(b, 'skip_verify') ?? rs.skip_verify ?? false,
      ...optional('Oauth2ClientID', optString(b, 'oauth_2_client_id') ?? rs.client_id),
      ...optional('Oauth2ClientSecret', optString(b, 'oauth_2_client_secret') ?? rs.client_secret),
      ...optional('SSHHostKey', optString(b, 'ssh_host_key') ?? rs.ssh_host_key),
      SkipSSHHostKeyCheck:
        optBool(b, 'skip_ssh_host_key_check') ?? rs.skip_ssh_host_key_check ?? false,
      RegistrationEnabled: optBool(b, 'registration_enabled') ?? rs.registration_enabled !== false,
      LoginEnabled: optBool(b, 'login_enabled') ?? rs.login_enabled !== false,
    };
    checkRequest(r);
    try {
      return created(
        reply,
        remoteSourceResponse(await ctx.configstore.updateRemoteSource(rs.id, r)),
      );
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/remotesources/:remotesourceref', async (req, reply) => {
    requireAdmin(req);
    try {
      await ctx.configstore.deleteRemoteSource(param(req, 'remotesourceref'));
    } catch (err) {
      throw passThrough(err);
    }
    return noContent(reply);
  });
}

import type { FastifyInstance } from 'fastify';
import type { Tx } from '@agola-ts/db';
import { created, noContent } from '@agola-ts/service-kit';
import {
  REMOTE_SOURCE_AUTH_TYPES,
  REMOTE_SOURCE_TYPES,
  isAuthTypeSupported,
  type RemoteSource,
  type RemoteSourceAuthType,
  type RemoteSourceType,
} from '@agola-ts/types';
import { objectBody, optBool, optString, reqName, reqString } from './body.js';
import { changeGroups as cg } from './change-groups.js';
import { del, newId, put } from './entities.js';
import { alreadyExists, invalid, missing, notFound } from './errors.js';
import { queries } from './readdb.js';
import { pageQuery, remoteSourceByRef } from './refs.js';
import type { Mutation, Store } from './store.js';
import { dropUndefined } from './users.js';

type Params = Record<string, string>;

/** Validates a create/update body (Go field names) into a remote source without id. */
function remoteSourceFromBody(body: Record<string, unknown>): Omit<RemoteSource, 'id'> {
  const name = reqName(body, 'Name', 'remote source');
  const apiurl = reqString(body, 'APIURL');
  try {
    new URL(apiurl);
  } catch {
    throw invalid(`APIURL ${JSON.stringify(apiurl)} is not a valid URL`);
  }
  const type = reqString(body, 'Type');
  if (!(REMOTE_SOURCE_TYPES as readonly string[]).includes(type)) {
    throw invalid(`Type ${JSON.stringify(type)} is not one of ${REMOTE_SOURCE_TYPES.join(', ')}`);
  }
  const authType = reqString(body, 'AuthType');
  if (!(REMOTE_SOURCE_AUTH_TYPES as readonly string[]).includes(authType)) {
    throw invalid(
      `AuthType ${JSON.stringify(authType)} is not one of ${REMOTE_SOURCE_AUTH_TYPES.join(', ')}`,
    );
  }
  if (!isAuthTypeSupported(type as RemoteSourceType, authType as RemoteSourceAuthType)) {
    throw invalid(`AuthType ${authType} is not supported by remote source Type ${type}`);
  }
  const clientId = optString(body, 'Oauth2ClientID');
  const clientSecret = optString(body, 'Oauth2ClientSecret');
  if (authType === 'oauth2') {
    if (!clientId) throw invalid('Oauth2ClientID is required for AuthType oauth2');
    if (!clientSecret) throw invalid('Oauth2ClientSecret is required for AuthType oauth2');
  }
  return dropUndefined({
    name,
    apiurl,
    skip_verify: optBool(body, 'SkipVerify'),
    type: type as RemoteSourceType,
    auth_type: authType as RemoteSourceAuthType,
    client_id: clientId,
    client_secret: clientSecret,
    ssh_host_key: optString(body, 'SSHHostKey'),
    skip_ssh_host_key_check: optBool(body, 'SkipSSHHostKeyCheck'),
    registration_enabled: optBool(body, 'RegistrationEnabled') ?? true,
    login_enabled: optBool(body, 'LoginEnabled') ?? true,
  });
}

async function existingRemoteSource(tx: Tx, ref: string): Promise<RemoteSource> {
  const rs = await remoteSourceByRef(tx, ref);
  if (!rs) throw missing(`remote source ${JSON.stringify(ref)} doesn't exist`);
  return rs;
}

/** The remote source routes of reference §6.4. */
export function registerRemoteSourceRoutes(api: FastifyInstance, store: Store): void {
  api.get<{ Params: Params }>('/remotesources/:ref', async (req) => {
    const ref = req.params['ref'] ?? '';
    const rs = await store.read((tx) => remoteSourceByRef(tx, ref));
    if (!rs) throw notFound(`remote source ${JSON.stringify(ref)} doesn't exist`);
    return rs;
  });

  api.get('/remotesources', async (req) => {
    const page = pageQuery(req.query as Record<string, unknown>);
    return store.read((tx) => queries.remoteSources(tx, page));
  });

  api.post('/remotesources', async (req, reply) => {
    const fields = remoteSourceFromBody(objectBody(req.body));
    const rs = await store.mutate(async (tx): Promise<Mutation<RemoteSource>> => {
      if (await queries.remoteSourceByName(tx, fields.name)) {
        throw alreadyExists(
          `remote source with name ${JSON.stringify(fields.name)} already exists`,
        );
      }
      const rs: RemoteSource = { id: newId(), ...fields };
      return {
        groups: [cg.remoteSourceName(rs.name)],
        actions: [put('remotesource', rs.id, rs)],
        result: rs,
      };
    });
    return created(reply, rs);
  });

  api.put<{ Params: Params }>('/remotesources/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    const fields = remoteSourceFromBody(objectBody(req.body));
    const rs = await store.mutate(async (tx): Promise<Mutation<RemoteSource>> => {
      const current = await existingRemoteSource(tx, ref);
      if (fields.name !== current.name && (await queries.remoteSourceByName(tx, fields.name))) {
        throw alreadyExists(
          `remote source with name ${JSON.stringify(fields.name)} already exists`,
        );
      }
      // the id is the ref's, whatever the body says
      const rs: RemoteSource = { ...fields, id: current.id };
      return {
        groups: [
          cg.remoteSourceName(current.name),
          cg.remoteSourceName(rs.name),
          cg.remoteSourceId(rs.id),
        ],
        actions: [put('remotesource', rs.id, rs)],
        result: rs,
      };
    });
    return created(reply, rs);
  });

  api.delete<{ Params: Params }>('/remotesources/:ref', async (req, reply) => {
    const ref = req.params['ref'] ?? '';
    await store.mutate(async (tx): Promise<Mutation<void>> => {
      const rs = await existingRemoteSource(tx, ref);
      return {
        groups: [cg.remoteSourceName(rs.name), cg.remoteSourceId(rs.id)],
        actions: [del('remotesource', rs.id)],
        result: undefined,
      };
    });
    return noContent(reply);
  });
}

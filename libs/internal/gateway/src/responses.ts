import type {
  LinkedAccount,
  Org,
  ProjectGroupResponse,
  ProjectResponse,
  RemoteSource,
  SecretResponse,
  User,
  VariableResponse,
} from '@agola-ts/types';
import { matchingSecret } from './runs/variables.js';

/** Agola's `UserResponse`: never the user's secrets or token values. */
export interface GatewayUser {
  id: string;
  username: string;
  tokens: string[];
  linked_accounts: GatewayLinkedAccountResponse[];
}

/** Agola's `LinkedAccountResponse`. */
export interface GatewayLinkedAccountResponse {
  id: string;
  remote_source_id: string;
  remote_user_name: string;
  remote_user_avatar_url: string;
}

/** The user as the gateway shows it: token names sorted, linked accounts without tokens. */
export function userResponse(u: User): GatewayUser {
  return {
    id: u.id,
    username: u.name,
    tokens: Object.keys(u.tokens ?? {}).sort(),
    linked_accounts: Object.values(u.linked_accounts ?? {}).map((la) => ({
      id: la.id,
      remote_source_id: la.remote_source_id ?? '',
      remote_user_name: la.remote_username ?? '',
      remote_user_avatar_url: la.remote_user_avatar_url ?? '',
    })),
  };
}

/** Agola's `LinkedAccount` of the gateway API (no tokens). */
export function linkedAccountResponse(la: LinkedAccount): Record<string, string> {
  const out: Record<string, string> = { id: la.id };
  if (la.remote_user_id) out['remote_user_id'] = la.remote_user_id;
  if (la.remote_username) out['remote_username'] = la.remote_username;
  if (la.remote_user_avatar_url) out['remote_user_avatar_url'] = la.remote_user_avatar_url;
  if (la.remote_source_id) out['remote_source_id'] = la.remote_source_id;
  return out;
}

/** Agola's `OrgResponse`. */
export function orgResponse(o: Org): { id: string; name: string; visibility?: string } {
  return { id: o.id, name: o.name, ...(o.visibility ? { visibility: o.visibility } : {}) };
}

/** Agola's `RemoteSourceResponse` (no client secret, no URL). */
export function remoteSourceResponse(rs: RemoteSource) {
  return {
    id: rs.id,
    name: rs.name,
    auth_type: rs.auth_type,
    registration_enabled: rs.registration_enabled !== false,
    login_enabled: rs.login_enabled !== false,
  };
}

/** Agola's `ProjectGroupResponse`. */
export function projectGroupResponse(pg: ProjectGroupResponse) {
  return {
    id: pg.id,
    name: pg.name ?? '',
    path: pg.Path,
    parent_path: pg.ParentPath,
    visibility: pg.visibility,
    global_visibility: pg.GlobalVisibility,
  };
}

/** Agola's `ProjectResponse` (omitempty fields as Go drops them). */
export function projectResponse(p: ProjectResponse): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.id) out['id'] = p.id;
  if (p.name) out['name'] = p.name;
  if (p.Path) out['path'] = p.Path;
  if (p.ParentPath) out['parent_path'] = p.ParentPath;
  if (p.visibility) out['visibility'] = p.visibility;
  if (p.GlobalVisibility) out['global_visibility'] = p.GlobalVisibility;
  if (p.pass_vars_to_forked_pr) out['pass_vars_to_forked_pr'] = true;
  return out;
}

/** Agola's `SecretResponse` (never the data). */
export function secretResponse(s: SecretResponse) {
  return { id: s.id, name: s.name, parent_path: s.ParentPath };
}

/** Agola's `VariableResponse`, each value with the parent path of the secret it reads. */
export function variableResponse(v: VariableResponse, secrets: readonly SecretResponse[]) {
  return {
    id: v.id,
    name: v.name,
    values: v.values.map((value) => ({
      secret_name: value.secret_name,
      secret_var: value.secret_var,
      matching_secret_parent_path: matchingSecret(value, v.ParentPath, secrets)?.ParentPath ?? '',
      when: value.when ?? null,
    })),
    parent_path: v.ParentPath,
  };
}

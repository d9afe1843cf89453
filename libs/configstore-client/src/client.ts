import { createHttpCaller } from '@agola-ts/api-client';
import { newError } from '@agola-ts/errors';
import type {
  AddOrgMemberRequest,
  CreateOrgRequest,
  CreateUpdateProjectGroupRequest,
  CreateUpdateProjectRequest,
  CreateUpdateRemoteSourceRequest,
  CreateUpdateSecretRequest,
  CreateUpdateVariableRequest,
  CreateUserLARequest,
  CreateUserRequest,
  CreateUserTokenResponse,
  LinkedAccount,
  ListOptions,
  MaintenanceStatusResponse,
  Org,
  OrgMember,
  OrgMemberResponse,
  ProjectGroupResponse,
  ProjectResponse,
  RemoteSource,
  SecretResponse,
  UpdateUserLARequest,
  User,
  UserOrgsResponse,
  UserQuery,
  VariableResponse,
} from '@agola-ts/types';
import { ConfigstoreClientErrorCodes } from './codes.js';

/** What secrets and variables belong to: a project group or a project (by ref). */
export type ItemParentKind = 'projectgroup' | 'project';

/** Options of the secret and variable lists. */
export interface TreeOptions {
  /** Also the ancestors' items, nearest first. @default false */
  tree?: boolean;
}

/** Options of {@link createConfigstoreClient}. */
export interface ConfigstoreClientOptions {
  /** The configstore API base URL, with the prefix: `http://127.0.0.1:4002/api/v1alpha`. */
  baseUrl: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
  /**
   * A request without a complete answer after this many milliseconds fails with
   * `ERR_CONFIGSTORE_CLIENT_TIMEOUT`; 0 waits forever. @default 30000
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Per-call options of the client's methods. */
export interface CallOptions {
  /** Cancels this request. */
  signal?: AbortSignal;
}

/**
 * A typed client of the configstore API: one method per route. Every error response rejects
 * with a `RemoteError` of `@agola-ts/errors` (status, kind, code, message); a request that
 * gets no answer (refused, reset, timeout, cancelled) rejects with an `AgolaError` coded
 * with one of {@link ConfigstoreClientErrorCodes}, naming the method and route, with the
 * network error as its cause.
 */
export interface ConfigstoreClient {
  /** `GET /users/{ref}`. @throws `RemoteError` 404 when missing. */
  getUser(userRef: string, options?: CallOptions): Promise<User>;
  /** `GET /users` paged by name (descending unless `asc`). */
  getUsers(list?: ListOptions, options?: CallOptions): Promise<User[]>;
  /** `GET /users?query_type=...`: the matching user. @throws `RemoteError` 404 when none. */
  getUserByQuery(query: UserQuery, options?: CallOptions): Promise<User>;
  /** `POST /users`: creates a user (and its root project group). */
  createUser(req: CreateUserRequest, options?: CallOptions): Promise<User>;
  /** `PUT /users/{ref}`: renames a user. */
  updateUser(userRef: string, userName: string, options?: CallOptions): Promise<User>;
  /** `DELETE /users/{ref}`. */
  deleteUser(userRef: string, options?: CallOptions): Promise<void>;
  /** `POST /users/{ref}/linkedaccounts`. */
  createUserLA(
    userRef: string,
    req: CreateUserLARequest,
    options?: CallOptions,
  ): Promise<LinkedAccount>;
  /** `PUT /users/{ref}/linkedaccounts/{laid}`. */
  updateUserLA(
    userRef: string,
    laId: string,
    req: UpdateUserLARequest,
    options?: CallOptions,
  ): Promise<LinkedAccount>;
  /** `DELETE /users/{ref}/linkedaccounts/{laid}`. */
  deleteUserLA(userRef: string, laId: string, options?: CallOptions): Promise<void>;
  /** `POST /users/{ref}/tokens`: returns the new token's value. */
  createUserToken(
    userRef: string,
    tokenName: string,
    options?: CallOptions,
  ): Promise<CreateUserTokenResponse>;
  /** `DELETE /users/{ref}/tokens/{name}`. */
  deleteUserToken(userRef: string, tokenName: string, options?: CallOptions): Promise<void>;
  /** `GET /users/{ref}/orgs`: the user's orgs with the user's role. */
  getUserOrgs(userRef: string, options?: CallOptions): Promise<UserOrgsResponse[]>;
  /** `GET /orgs/{ref}`. */
  getOrg(orgRef: string, options?: CallOptions): Promise<Org>;
  /** `GET /orgs` paged by name. */
  getOrgs(list?: ListOptions, options?: CallOptions): Promise<Org[]>;
  /** `POST /orgs`: creates an org (its root project group, and the creator as owner). */
  createOrg(req: CreateOrgRequest, options?: CallOptions): Promise<Org>;
  /** `DELETE /orgs/{ref}` (with its memberships and project groups). */
  deleteOrg(orgRef: string, options?: CallOptions): Promise<void>;
  /** `GET /orgs/{ref}/members`. */
  getOrgMembers(orgRef: string, options?: CallOptions): Promise<OrgMemberResponse[]>;
  /** `PUT /orgs/{ref}/members/{userref}`: adds a member or sets its role. */
  addOrgMember(
    orgRef: string,
    userRef: string,
    req: AddOrgMemberRequest,
    options?: CallOptions,
  ): Promise<OrgMember>;
  /** `DELETE /orgs/{ref}/members/{userref}`. */
  removeOrgMember(orgRef: string, userRef: string, options?: CallOptions): Promise<void>;
  /** `GET /remotesources/{ref}`. */
  getRemoteSource(ref: string, options?: CallOptions): Promise<RemoteSource>;
  /** `GET /remotesources` paged by name. */
  getRemoteSources(list?: ListOptions, options?: CallOptions): Promise<RemoteSource[]>;
  /** `POST /remotesources`. */
  createRemoteSource(
    req: CreateUpdateRemoteSourceRequest,
    options?: CallOptions,
  ): Promise<RemoteSource>;
  /** `PUT /remotesources/{ref}`. */
  updateRemoteSource(
    ref: string,
    req: CreateUpdateRemoteSourceRequest,
    options?: CallOptions,
  ): Promise<RemoteSource>;
  /** `DELETE /remotesources/{ref}`. */
  deleteRemoteSource(ref: string, options?: CallOptions): Promise<void>;
  /**
   * `GET /projectgroups/{ref}`: a ref with `/` is a path (`org/acme/group`), else an id; it is
   * sent URL-encoded in one path segment.
   */
  getProjectGroup(ref: string, options?: CallOptions): Promise<ProjectGroupResponse>;
  /** `GET /projectgroups/{ref}/subgroups`. */
  getProjectGroupSubgroups(ref: string, options?: CallOptions): Promise<ProjectGroupResponse[]>;
  /** `GET /projectgroups/{ref}/projects`. */
  getProjectGroupProjects(ref: string, options?: CallOptions): Promise<ProjectResponse[]>;
  /** `POST /projectgroups`. */
  createProjectGroup(
    req: CreateUpdateProjectGroupRequest,
    options?: CallOptions,
  ): Promise<ProjectGroupResponse>;
  /** `PUT /projectgroups/{ref}`: renames, moves or changes the visibility. */
  updateProjectGroup(
    ref: string,
    req: CreateUpdateProjectGroupRequest,
    options?: CallOptions,
  ): Promise<ProjectGroupResponse>;
  /** `DELETE /projectgroups/{ref}` (with its subgroups, projects, secrets and variables). */
  deleteProjectGroup(ref: string, options?: CallOptions): Promise<void>;
  /** `GET /projects/{ref}` (ref: an id or a path such as `org/acme/group/project`). */
  getProject(ref: string, options?: CallOptions): Promise<ProjectResponse>;
  /** `POST /projects`. */
  createProject(req: CreateUpdateProjectRequest, options?: CallOptions): Promise<ProjectResponse>;
  /** `PUT /projects/{ref}` (the secrets stay). */
  updateProject(
    ref: string,
    req: CreateUpdateProjectRequest,
    options?: CallOptions,
  ): Promise<ProjectResponse>;
  /** `DELETE /projects/{ref}` (with its secrets and variables). */
  deleteProject(ref: string, options?: CallOptions): Promise<void>;
  /** `GET /{projectgroups|projects}/{ref}/secrets[?tree]`. */
  getSecrets(
    kind: ItemParentKind,
    ref: string,
    list?: TreeOptions,
    options?: CallOptions,
  ): Promise<SecretResponse[]>;
  /** `POST /{projectgroups|projects}/{ref}/secrets`. */
  createSecret(
    kind: ItemParentKind,
    ref: string,
    req: CreateUpdateSecretRequest,
    options?: CallOptions,
  ): Promise<SecretResponse>;
  /** `PUT /{projectgroups|projects}/{ref}/secrets/{name}`. */
  updateSecret(
    kind: ItemParentKind,
    ref: string,
    name: string,
    req: CreateUpdateSecretRequest,
    options?: CallOptions,
  ): Promise<SecretResponse>;
  /** `DELETE /{projectgroups|projects}/{ref}/secrets/{name}`. */
  deleteSecret(
    kind: ItemParentKind,
    ref: string,
    name: string,
    options?: CallOptions,
  ): Promise<void>;
  /** `GET /{projectgroups|projects}/{ref}/variables[?tree]`. */
  getVariables(
    kind: ItemParentKind,
    ref: string,
    list?: TreeOptions,
    options?: CallOptions,
  ): Promise<VariableResponse[]>;
  /** `POST /{projectgroups|projects}/{ref}/variables`. */
  createVariable(
    kind: ItemParentKind,
    ref: string,
    req: CreateUpdateVariableRequest,
    options?: CallOptions,
  ): Promise<VariableResponse>;
  /** `PUT /{projectgroups|projects}/{ref}/variables/{name}`. */
  updateVariable(
    kind: ItemParentKind,
    ref: string,
    name: string,
    req: CreateUpdateVariableRequest,
    options?: CallOptions,
  ): Promise<VariableResponse>;
  /** `DELETE /{projectgroups|projects}/{ref}/variables/{name}`. */
  deleteVariable(
    kind: ItemParentKind,
    ref: string,
    name: string,
    options?: CallOptions,
  ): Promise<void>;

  /** `PUT /maintenance`: enters maintenance mode (400 when already in it). */
  enableMaintenance(options?: CallOptions): Promise<void>;
  /** `DELETE /maintenance`: leaves maintenance mode (400 when not in it). */
  disableMaintenance(options?: CallOptions): Promise<void>;
  /** `GET /maintenance`: whether maintenance mode is asked for and whether it is served. */
  getMaintenanceStatus(options?: CallOptions): Promise<MaintenanceStatusResponse>;
  /** `GET /export`: the datamanager's data as a stream (the timeout covers only the headers). */
  export(options?: CallOptions): Promise<ReadableStream<Uint8Array>>;
  /** `POST /import` (maintenance mode only): replaces the data with an export stream. */
  import(data: Uint8Array | ReadableStream<Uint8Array>, options?: CallOptions): Promise<void>;
}

const seg = encodeURIComponent;

const itemBase = (kind: ItemParentKind, ref: string) =>
  `/${kind === 'projectgroup' ? 'projectgroups' : 'projects'}/${seg(ref)}`;

const treeQuery = (list: TreeOptions = {}): Record<string, string> =>
  list.tree ? { tree: '' } : {};

function listQuery(list: ListOptions = {}): Record<string, string> {
  const q: Record<string, string> = {};
  if (list.limit !== undefined) q['limit'] = String(list.limit);
  if (list.start !== undefined) q['start'] = list.start;
  if (list.asc) q['asc'] = '';
  return q;
}

/**
 * Creates a configstore client.
 *
 * @example
 * ```ts
 * const cs = createConfigstoreClient({ baseUrl: 'http://127.0.0.1:4002/api/v1alpha' });
 * const user = await cs.createUser({ user_name: 'alice' });
 * try {
 *   await cs.getUser('bob');
 * } catch (err) {
 *   if (err instanceof RemoteError && err.status === 404) console.log('no bob');
 * }
 * ```
 */
export function createConfigstoreClient(options: ConfigstoreClientOptions): ConfigstoreClient {
  const { call, raw } = createHttpCaller({
    service: 'configstore',
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    codes: {
      unreachable: ConfigstoreClientErrorCodes.Unreachable,
      connectionLost: ConfigstoreClientErrorCodes.ConnectionLost,
      timeout: ConfigstoreClientErrorCodes.Timeout,
      aborted: ConfigstoreClientErrorCodes.Aborted,
      badResponse: ConfigstoreClientErrorCodes.BadResponse,
    },
  });

  return {
    getUser: (ref, o) => call('GET', `/users/${seg(ref)}`, { signal: o?.signal }),
    getUsers: (list, o) => call('GET', '/users', { query: listQuery(list), signal: o?.signal }),
    async getUserByQuery(query, o) {
      const users = await call<User[]>('GET', '/users', {
        query: query as unknown as Record<string, string>,
        signal: o?.signal,
      });
      const [user] = users;
      if (!user) throw newError('configstore answered an empty user list');
      return user;
    },
    createUser: (req, o) => call('POST', '/users', { body: req, signal: o?.signal }),
    updateUser: (ref, userName, o) =>
      call('PUT', `/users/${seg(ref)}`, { body: { user_name: userName }, signal: o?.signal }),
    deleteUser: (ref, o) => call('DELETE', `/users/${seg(ref)}`, { signal: o?.signal }),
    createUserLA: (ref, req, o) =>
      call('POST', `/users/${seg(ref)}/linkedaccounts`, { body: req, signal: o?.signal }),
    updateUserLA: (ref, laId, req, o) =>
      call('PUT', `/users/${seg(ref)}/linkedaccounts/${seg(laId)}`, {
        body: req,
        signal: o?.signal,
      }),
    deleteUserLA: (ref, laId, o) =>
      call('DELETE', `/users/${seg(ref)}/linkedaccounts/${seg(laId)}`, { signal: o?.signal }),
    createUserToken: (ref, tokenName, o) =>
      call('POST', `/users/${seg(ref)}/tokens`, {
        body: { token_name: tokenName },
        signal: o?.signal,
      }),
    deleteUserToken: (ref, tokenName, o) =>
      call('DELETE', `/users/${seg(ref)}/tokens/${seg(tokenName)}`, { signal: o?.signal }),
    getUserOrgs: (ref, o) => call('GET', `/users/${seg(ref)}/orgs`, { signal: o?.signal }),
    getOrg: (ref, o) => call('GET', `/orgs/${seg(ref)}`, { signal: o?.signal }),
    getOrgs: (list, o) => call('GET', '/orgs', { query: listQuery(list), signal: o?.signal }),
    createOrg: (req, o) => call('POST', '/orgs', { body: req, signal: o?.signal }),
    deleteOrg: (ref, o) => call('DELETE', `/orgs/${seg(ref)}`, { signal: o?.signal }),
    getOrgMembers: (ref, o) => call('GET', `/orgs/${seg(ref)}/members`, { signal: o?.signal }),
    addOrgMember: (orgRef, userRef, req, o) =>
      call('PUT', `/orgs/${seg(orgRef)}/members/${seg(userRef)}`, {
        body: req,
        signal: o?.signal,
      }),
    removeOrgMember: (orgRef, userRef, o) =>
      call('DELETE', `/orgs/${seg(orgRef)}/members/${seg(userRef)}`, { signal: o?.signal }),
    getRemoteSource: (ref, o) => call('GET', `/remotesources/${seg(ref)}`, { signal: o?.signal }),
    getRemoteSources: (list, o) =>
      call('GET', '/remotesources', { query: listQuery(list), signal: o?.signal }),
    createRemoteSource: (req, o) =>
      call('POST', '/remotesources', { body: req, signal: o?.signal }),
    updateRemoteSource: (ref, req, o) =>
      call('PUT', `/remotesources/${seg(ref)}`, { body: req, signal: o?.signal }),
    deleteRemoteSource: (ref, o) =>
      call('DELETE', `/remotesources/${seg(ref)}`, { signal: o?.signal }),
    getProjectGroup: (ref, o) => call('GET', `/projectgroups/${seg(ref)}`, { signal: o?.signal }),
    getProjectGroupSubgroups: (ref, o) =>
      call('GET', `/projectgroups/${seg(ref)}/subgroups`, { signal: o?.signal }),
    getProjectGroupProjects: (ref, o) =>
      call('GET', `/projectgroups/${seg(ref)}/projects`, { signal: o?.signal }),
    createProjectGroup: (req, o) =>
      call('POST', '/projectgroups', { body: req, signal: o?.signal }),
    updateProjectGroup: (ref, req, o) =>
      call('PUT', `/projectgroups/${seg(ref)}`, { body: req, signal: o?.signal }),
    deleteProjectGroup: (ref, o) =>
      call('DELETE', `/projectgroups/${seg(ref)}`, { signal: o?.signal }),
    getProject: (ref, o) => call('GET', `/projects/${seg(ref)}`, { signal: o?.signal }),
    createProject: (req, o) => call('POST', '/projects', { body: req, signal: o?.signal }),
    updateProject: (ref, req, o) =>
      call('PUT', `/projects/${seg(ref)}`, { body: req, signal: o?.signal }),
    deleteProject: (ref, o) => call('DELETE', `/projects/${seg(ref)}`, { signal: o?.signal }),
    getSecrets: (kind, ref, list, o) =>
      call('GET', `${itemBase(kind, ref)}/secrets`, {
        query: treeQuery(list),
        signal: o?.signal,
      }),
    createSecret: (kind, ref, req, o) =>
      call('POST', `${itemBase(kind, ref)}/secrets`, { body: req, signal: o?.signal }),
    updateSecret: (kind, ref, name, req, o) =>
      call('PUT', `${itemBase(kind, ref)}/secrets/${seg(name)}`, {
        body: req,
        signal: o?.signal,
      }),
    deleteSecret: (kind, ref, name, o) =>
      call('DELETE', `${itemBase(kind, ref)}/secrets/${seg(name)}`, { signal: o?.signal }),
    getVariables: (kind, ref, list, o) =>
      call('GET', `${itemBase(kind, ref)}/variables`, {
        query: treeQuery(list),
        signal: o?.signal,
      }),
    createVariable: (kind, ref, req, o) =>
      call('POST', `${itemBase(kind, ref)}/variables`, { body: req, signal: o?.signal }),
    updateVariable: (kind, ref, name, req, o) =>
      call('PUT', `${itemBase(kind, ref)}/variables/${seg(name)}`, {
        body: req,
        signal: o?.signal,
      }),
    deleteVariable: (kind, ref, name, o) =>
      call('DELETE', `${itemBase(kind, ref)}/variables/${seg(name)}`, { signal: o?.signal }),
    enableMaintenance: (o) => call('PUT', '/maintenance', { signal: o?.signal }),
    disableMaintenance: (o) => call('DELETE', '/maintenance', { signal: o?.signal }),
    getMaintenanceStatus: (o) => call('GET', '/maintenance', { signal: o?.signal }),
    async export(o) {
      const res = await raw('GET', '/export', { signal: o?.signal });
      if (!res.body) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      return res.body;
    },
    async import(data, o) {
      const res = await raw('POST', '/import', { rawBody: data, signal: o?.signal });
      await res.body?.cancel();
    },
  };
}

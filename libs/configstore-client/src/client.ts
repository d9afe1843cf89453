import { errorFromResponse, newError, wrap } from '@agola-ts/errors';
import type {
  AddOrgMemberRequest,
  CreateOrgRequest,
  CreateUpdateRemoteSourceRequest,
  CreateUserLARequest,
  CreateUserRequest,
  CreateUserTokenResponse,
  LinkedAccount,
  ListOptions,
  Org,
  OrgMember,
  OrgMemberResponse,
  RemoteSource,
  UpdateUserLARequest,
  User,
  UserOrgsResponse,
  UserQuery,
} from '@agola-ts/types';

/** Options of {@link createConfigstoreClient}. */
export interface ConfigstoreClientOptions {
  /** The configstore API base URL, with the prefix: `http://127.0.0.1:4002/api/v1alpha`. */
  baseUrl: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
}

/** Per-call options of the client's methods. */
export interface CallOptions {
  /** Cancels this request. */
  signal?: AbortSignal;
}

/**
 * A typed client of the configstore API: one method per route. Every error response rejects
 * with a `RemoteError` of `@agola-ts/errors` (status, kind, code, message).
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
}

const seg = encodeURIComponent;

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
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;

  async function call<T>(
    method: string,
    path: string,
    init: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const qs = init.query ? new URLSearchParams(init.query).toString() : '';
    const url = `${base}${path}${qs ? `?${qs}` : ''}`;
    const signals = [options.signal, init.signal].filter((s): s is AbortSignal => !!s);
    const res = await doFetch(url, {
      method,
      ...(init.body !== undefined
        ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
        : {}),
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
    });
    const err = await errorFromResponse(res);
    if (err) throw err;
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw wrap(cause, `configstore ${method} ${path}: response is not JSON`);
    }
  }

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
  };
}

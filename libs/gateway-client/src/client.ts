import { AgolaError } from '@agola-ts/errors';
import { GatewayClientErrorCodes } from './codes.js';
import { createGatewayHttp, type Credentials } from './http.js';
import { createSseParser } from './sse.js';
import type {
  RunEvent,
  AddOrgMemberResponse,
  AuthorizeResponse,
  CreateProjectGroupRequest,
  CreateProjectRequest,
  CreateRemoteSourceRequest,
  CreateSecretRequest,
  CreateUserLARequest,
  CreateUserLAResponse,
  CreateUserTokenResponse,
  CreateVariableRequest,
  GetRunsOptions,
  ItemParentKind,
  ListOptions,
  LoginUserRequest,
  LoginUserResponse,
  LogSelector,
  MaintenanceService,
  MaintenanceStatusResponse,
  MemberRole,
  OAuth2CallbackResponse,
  OrgMembersResponse,
  OrgResponse,
  ProjectCreateRunRequest,
  ProjectGroupResponse,
  ProjectResponse,
  RegisterUserRequest,
  RegisterUserResponse,
  RemoteSourceResponse,
  RunActionRequest,
  RunOwner,
  RunResponse,
  RunsResponse,
  RunTaskResponse,
  SecretResponse,
  UpdateProjectGroupRequest,
  UpdateProjectRequest,
  UpdateRemoteSourceRequest,
  UserCreateRunRequest,
  UserOrgsResponse,
  UserResponse,
  VariableResponse,
  Visibility,
  VersionResponse,
} from './types.js';

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway URL, with or without the API prefix: `http://localhost:8000`. */
  baseUrl: string;
  /** An API token (`Authorization: token ...`): a user token or the admin token. */
  token?: string;
  /** A login JWT from {@link GatewayClient.login} (`Authorization: bearer ...`). */
  bearer?: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
  /** Fails a request (not a log stream) with no complete answer after this many ms; 0 waits forever. @default 30000 */
  timeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Cancels this request. */
  signal?: AbortSignal;
}

/** Options of {@link GatewayClient.runEvents}. */
export interface RunEventsOptions extends CallOptions {
  /** Called once the gateway answered: every later event is delivered. */
  onOpen?: () => void;
}

/** Options of the secret and variable lists. */
export interface TreeOptions {
  /** Also the ancestors' items, nearest first. */
  tree?: boolean;
  /** With `tree`: drop the items a nearer one of the same name overrides. */
  removeOverridden?: boolean;
}

/**
 * A typed client of the Agola v0.7 gateway API (`/api/v1alpha`): one method per route.
 * Every error answer rejects with a `RemoteError` of `@agola-ts/errors` (status, kind, code,
 * message); a request that gets no answer rejects with an `AgolaError` coded with one of
 * `GatewayClientErrorCodes`.
 */
export interface GatewayClient {
  /** Uses this API token from now on (`Authorization: token`). */
  setToken(token: string | undefined): void;
  /** Uses this login JWT from now on (`Authorization: bearer`). */
  setBearer(jwt: string | undefined): void;

  /** `GET /version`. */
  getVersion(options?: CallOptions): Promise<VersionResponse>;

  /** `POST /auth/login`: logs in through a remote source; password sources answer a login JWT. */
  login(req: LoginUserRequest, options?: CallOptions): Promise<LoginUserResponse>;
  /** `POST /auth/register`: creates a user linked to the remote account. */
  register(req: RegisterUserRequest, options?: CallOptions): Promise<RegisterUserResponse>;
  /** `POST /auth/authorize`: who the remote account is. */
  authorize(req: LoginUserRequest, options?: CallOptions): Promise<AuthorizeResponse>;
  /** `GET /auth/oauth2/callback?code&state`: completes an OAuth2 flow. */
  oauth2Callback(
    code: string,
    state: string,
    options?: CallOptions,
  ): Promise<OAuth2CallbackResponse>;

  /** `GET /user`: the caller. */
  getCurrentUser(options?: CallOptions): Promise<UserResponse>;
  /** `GET /user/orgs`: the caller's orgs and roles. */
  getCurrentUserOrgs(options?: CallOptions): Promise<UserOrgsResponse[]>;
  /** `GET /user/remoterepos/{rs}`: the caller's repositories on a remote source. */
  getUserRemoteRepos(
    remoteSourceRef: string,
    options?: CallOptions,
  ): Promise<{ id: string; path: string }[]>;
  /** `GET /users/{ref}`. */
  getUser(userRef: string, options?: CallOptions): Promise<UserResponse>;
  /** `GET /users` (admin). */
  getUsers(list?: ListOptions, options?: CallOptions): Promise<UserResponse[]>;
  /** `POST /users` (admin). */
  createUser(username: string, options?: CallOptions): Promise<UserResponse>;
  /** `DELETE /users/{ref}` (admin). */
  deleteUser(userRef: string, options?: CallOptions): Promise<void>;
  /** `POST /users/{ref}/linkedaccounts` (the user itself). */
  createUserLA(
    userRef: string,
    req: CreateUserLARequest,
    options?: CallOptions,
  ): Promise<CreateUserLAResponse>;
  /** `DELETE /users/{ref}/linkedaccounts/{id}`. */
  deleteUserLA(userRef: string, laId: string, options?: CallOptions): Promise<void>;
  /** `POST /users/{ref}/tokens`: a new API token (its value is shown only here). */
  createUserToken(
    userRef: string,
    tokenName: string,
    options?: CallOptions,
  ): Promise<CreateUserTokenResponse>;
  /** `DELETE /users/{ref}/tokens/{name}`. */
  deleteUserToken(userRef: string, tokenName: string, options?: CallOptions): Promise<void>;

  /** `GET /orgs/{ref}`. */
  getOrg(orgRef: string, options?: CallOptions): Promise<OrgResponse>;
  /** `GET /orgs`. */
  getOrgs(list?: ListOptions, options?: CallOptions): Promise<OrgResponse[]>;
  /** `POST /orgs`: the caller becomes its owner. */
  createOrg(
    req: { name: string; visibility: Visibility },
    options?: CallOptions,
  ): Promise<OrgResponse>;
  /** `DELETE /orgs/{ref}` (org owner). */
  deleteOrg(orgRef: string, options?: CallOptions): Promise<void>;
  /** `GET /orgs/{ref}/members`. */
  getOrgMembers(orgRef: string, options?: CallOptions): Promise<OrgMembersResponse>;
  /** `PUT /orgs/{ref}/members/{userref}` (org owner): adds a member or sets its role. */
  addOrgMember(
    orgRef: string,
    userRef: string,
    role: MemberRole,
    options?: CallOptions,
  ): Promise<AddOrgMemberResponse>;
  /** `DELETE /orgs/{ref}/members/{userref}` (org owner). */
  removeOrgMember(orgRef: string, userRef: string, options?: CallOptions): Promise<void>;

  /** `GET /remotesources/{ref}`. */
  getRemoteSource(ref: string, options?: CallOptions): Promise<RemoteSourceResponse>;
  /** `GET /remotesources` (no auth needed). */
  getRemoteSources(list?: ListOptions, options?: CallOptions): Promise<RemoteSourceResponse[]>;
  /** `POST /remotesources` (admin). */
  createRemoteSource(
    req: CreateRemoteSourceRequest,
    options?: CallOptions,
  ): Promise<RemoteSourceResponse>;
  /** `PUT /remotesources/{ref}` (admin). */
  updateRemoteSource(
    ref: string,
    req: UpdateRemoteSourceRequest,
    options?: CallOptions,
  ): Promise<RemoteSourceResponse>;
  /** `DELETE /remotesources/{ref}` (admin). */
  deleteRemoteSource(ref: string, options?: CallOptions): Promise<void>;

  /** `GET /projectgroups/{ref}` (ref: id or path such as `org/acme`). */
  getProjectGroup(ref: string, options?: CallOptions): Promise<ProjectGroupResponse>;
  /** `GET /projectgroups/{ref}/subgroups`. */
  getProjectGroupSubgroups(ref: string, options?: CallOptions): Promise<ProjectGroupResponse[]>;
  /** `GET /projectgroups/{ref}/projects`. */
  getProjectGroupProjects(ref: string, options?: CallOptions): Promise<ProjectResponse[]>;
  /** `POST /projectgroups`. */
  createProjectGroup(
    req: CreateProjectGroupRequest,
    options?: CallOptions,
  ): Promise<ProjectGroupResponse>;
  /** `PUT /projectgroups/{ref}`. */
  updateProjectGroup(
    ref: string,
    req: UpdateProjectGroupRequest,
    options?: CallOptions,
  ): Promise<ProjectGroupResponse>;
  /** `DELETE /projectgroups/{ref}`. */
  deleteProjectGroup(ref: string, options?: CallOptions): Promise<void>;

  /** `GET /projects/{ref}` (auth optional: public projects are readable by anyone). */
  getProject(ref: string, options?: CallOptions): Promise<ProjectResponse>;
  /** `POST /projects`: creates the project, its deploy key and its webhook on the forge. */
  createProject(req: CreateProjectRequest, options?: CallOptions): Promise<ProjectResponse>;
  /** `PUT /projects/{ref}`. */
  updateProject(
    ref: string,
    req: UpdateProjectRequest,
    options?: CallOptions,
  ): Promise<ProjectResponse>;
  /** `DELETE /projects/{ref}` (also removes the deploy key and the webhook). */
  deleteProject(ref: string, options?: CallOptions): Promise<void>;
  /** `PUT /projects/{ref}/reconfig`: re-creates the deploy key and the webhook. */
  reconfigProject(ref: string, options?: CallOptions): Promise<void>;
  /** `PUT /projects/{ref}/updaterepolinkedaccount`: the project uses the caller's linked account. */
  updateRepoLinkedAccount(ref: string, options?: CallOptions): Promise<ProjectResponse>;

  /** `GET /{projectgroups|projects}/{ref}/secrets`. */
  getSecrets(
    kind: ItemParentKind,
    ref: string,
    list?: TreeOptions,
    options?: CallOptions,
  ): Promise<SecretResponse[]>;
  /** `POST .../secrets`. */
  createSecret(
    kind: ItemParentKind,
    ref: string,
    req: CreateSecretRequest,
    options?: CallOptions,
  ): Promise<SecretResponse>;
  /** `PUT .../secrets/{name}`. */
  updateSecret(
    kind: ItemParentKind,
    ref: string,
    name: string,
    req: CreateSecretRequest,
    options?: CallOptions,
  ): Promise<SecretResponse>;
  /** `DELETE .../secrets/{name}`. */
  deleteSecret(
    kind: ItemParentKind,
    ref: string,
    name: string,
    options?: CallOptions,
  ): Promise<void>;
  /** `GET /{projectgroups|projects}/{ref}/variables`. */
  getVariables(
    kind: ItemParentKind,
    ref: string,
    list?: TreeOptions,
    options?: CallOptions,
  ): Promise<VariableResponse[]>;
  /** `POST .../variables`. */
  createVariable(
    kind: ItemParentKind,
    ref: string,
    req: CreateVariableRequest,
    options?: CallOptions,
  ): Promise<VariableResponse>;
  /** `PUT .../variables/{name}`. */
  updateVariable(
    kind: ItemParentKind,
    ref: string,
    name: string,
    req: CreateVariableRequest,
    options?: CallOptions,
  ): Promise<VariableResponse>;
  /** `DELETE .../variables/{name}`. */
  deleteVariable(
    kind: ItemParentKind,
    ref: string,
    name: string,
    options?: CallOptions,
  ): Promise<void>;

  /** `GET /{projects|users}/{ref}/runs`. */
  getRuns(owner: RunOwner, list?: GetRunsOptions, options?: CallOptions): Promise<RunsResponse[]>;
  /** `GET .../runs/{n}`. */
  getRun(owner: RunOwner, runNumber: number, options?: CallOptions): Promise<RunResponse>;
  /** `PUT .../runs/{n}/actions`: restart, cancel or stop. */
  runAction(
    owner: RunOwner,
    runNumber: number,
    req: RunActionRequest,
    options?: CallOptions,
  ): Promise<RunResponse>;
  /** `GET .../runs/{n}/tasks/{id}`. */
  getRunTask(
    owner: RunOwner,
    runNumber: number,
    taskId: string,
    options?: CallOptions,
  ): Promise<RunTaskResponse>;
  /** `PUT .../runs/{n}/tasks/{id}/actions` `{action_type: 'approve'}`. */
  approveRunTask(
    owner: RunOwner,
    runNumber: number,
    taskId: string,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * `GET .../runs/{n}/tasks/{id}/logs?setup|step=N[&follow]`: the log as chunks; with
   * `follow` it goes on until the step ends.
   */
  getLogs(
    owner: RunOwner,
    runNumber: number,
    taskId: string,
    which: LogSelector & { follow?: boolean },
    options?: CallOptions,
  ): Promise<AsyncIterable<Uint8Array>>;
  /** `DELETE .../runs/{n}/tasks/{id}/logs?setup|step=N`. */
  deleteLogs(
    owner: RunOwner,
    runNumber: number,
    taskId: string,
    which: LogSelector,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * `GET /runs/events?projectref=|userref=` (an Agola-TS route; Agola's gateway has none): the
   * run events of a project or of a user's direct runs, as they happen, until `signal` aborts
   * (the iteration then just ends) or the gateway ends the stream. `onOpen` is called once the
   * gateway answered: every later event is delivered, so fetch the runs then to catch up.
   * The stream is parsed as it arrives (events cut across chunks are put together).
   *
   * @throws `RemoteError` 400 (no or both refs), 403 (the caller may not read these runs),
   * 404 (unknown project or user); `ERR_GATEWAY_CLIENT_EVENTS_ENDED` when the gateway ends
   * the stream with an error (a too slow reader, access lost); the client's connection codes.
   * @example
   * ```ts
   * const ac = new AbortController();
   * for await (const ev of gw.runEvents({ kind: 'project', ref: 'org/acme/app' }, { signal: ac.signal })) {
   *   if (ev.phase === 'finished') console.log(`run #${ev.run_number}: ${ev.result}`);
   * }
   * ```
   */
  runEvents(owner: RunOwner, options?: RunEventsOptions): AsyncIterable<RunEvent>;
  /** `POST /projects/{ref}/createrun`: a manual run of a branch, tag or ref. */
  projectCreateRun(
    projectRef: string,
    req: ProjectCreateRunRequest,
    options?: CallOptions,
  ): Promise<void>;
  /** `POST /user/createrun`: a direct run of a repository pushed to the git server. */
  userCreateRun(req: UserCreateRunRequest, options?: CallOptions): Promise<void>;
  /** `GET /badges/{projectref}[?branch]`: the SVG badge of the last run. */
  getBadge(projectRef: string, branch?: string, options?: CallOptions): Promise<string>;

  /**
   * `PUT /maintenance/{service}` (admin; beyond Agola v0.7.1): puts the configstore or the
   * runservice in maintenance mode, where it serves only maintenance, export and import.
   */
  enableMaintenance(service: MaintenanceService, options?: CallOptions): Promise<void>;
  /** `DELETE /maintenance/{service}` (admin): leaves maintenance mode. */
  disableMaintenance(service: MaintenanceService, options?: CallOptions): Promise<void>;
  /**
   * `GET /maintenance/{service}` (admin): whether maintenance mode is asked for
   * (`requested_status`) and whether the service serves it yet (`current_status`).
   */
  getMaintenanceStatus(
    service: MaintenanceService,
    options?: CallOptions,
  ): Promise<MaintenanceStatusResponse>;
  /**
   * `GET /export/{service}` (admin): the service's data in Agola's export format, as chunks
   * (a broken transfer rejects with `ERR_GATEWAY_CLIENT_CONNECTION_LOST`, never ends early).
   */
  exportData(
    service: MaintenanceService,
    options?: CallOptions,
  ): Promise<AsyncIterable<Uint8Array>>;
  /**
   * `POST /import/{service}` (admin, the service in maintenance mode): replaces its data
   * with an export. A stream is sent as it is read, with no timeout.
   */
  importData(
    service: MaintenanceService,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: CallOptions,
  ): Promise<void>;
}

const seg = encodeURIComponent;

const itemBase = (kind: ItemParentKind, ref: string) =>
  `/${kind === 'projectgroup' ? 'projectgroups' : 'projects'}/${seg(ref)}`;

const runBase = (owner: RunOwner) =>
  `/${owner.kind === 'project' ? 'projects' : 'users'}/${seg(owner.ref)}/runs`;

function listQuery(list: ListOptions = {}): [string, string][] {
  const q: [string, string][] = [];
  if (list.limit !== undefined) q.push(['limit', String(list.limit)]);
  if (list.start !== undefined) q.push(['start', list.start]);
  if (list.asc) q.push(['asc', '']);
  return q;
}

function treeQuery(list: TreeOptions = {}): [string, string][] {
  const q: [string, string][] = [];
  if (list.tree) q.push(['tree', '']);
  if (list.removeOverridden) q.push(['removeoverridden', '']);
  return q;
}

function logQuery(which: LogSelector & { follow?: boolean }): [string, string][] {
  const q: [string, string][] = 'setup' in which ? [['setup', '']] : [['step', String(which.step)]];
  if (which.follow) q.push(['follow', '']);
  return q;
}

/** The base URL with the API prefix, without trailing slashes. */
function apiBase(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  const u = url.slice(0, end);
  return u.endsWith('/api/v1alpha') ? u : `${u}/api/v1alpha`;
}

/**
 * Creates a gateway client.
 *
 * @example
 * ```ts
 * const gw = createGatewayClient({ baseUrl: 'http://localhost:8000' });
 * const { token } = await gw.login({ remote_source_name: 'gitea', login_name: 'alice', password: 'pw' });
 * gw.setBearer(token);
 * const org = await gw.createOrg({ name: 'acme', visibility: 'public' });
 * ```
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  let credentials: Credentials = options.token
    ? { type: 'token', token: options.token }
    : options.bearer
      ? { type: 'bearer', token: options.bearer }
      : undefined;
  const http = createGatewayHttp({
    baseUrl: apiBase(options.baseUrl),
    // called through globalThis (a browser's fetch refuses another `this`)
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 30_000,
    credentials: () => credentials,
  });
  const call = <T>(
    method: string,
    path: string,
    init: {
      query?: [string, string][];
      body?: unknown;
      rawBody?: Uint8Array | ReadableStream<Uint8Array>;
    } = {},
    o: CallOptions = {},
  ): Promise<T> => http.call<T>(method, path, { ...init, signal: o.signal });

  async function* runEventsOf(owner: RunOwner, o: RunEventsOptions): AsyncGenerator<RunEvent> {
    let chunks: AsyncIterable<Uint8Array>;
    try {
      chunks = await http.stream('GET', '/runs/events', {
        query: [[owner.kind === 'project' ? 'projectref' : 'userref', owner.ref]],
        signal: o.signal,
      });
    } catch (err) {
      if (o.signal?.aborted) return;
      throw err;
    }
    o.onOpen?.();
    const decoder = new TextDecoder();
    const parser = createSseParser();
    try {
      for await (const chunk of chunks) {
        for (const m of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (m.event === 'error') {
            throw new AgolaError(`gateway ended the run events: ${m.data.slice(0, 500)}`, {
              code: GatewayClientErrorCodes.EventsEnded,
            });
          }
          if (m.event !== 'message') continue;
          let ev: RunEvent;
          try {
            ev = JSON.parse(m.data) as RunEvent;
          } catch (cause) {
            throw new AgolaError('gateway GET /runs/events: an event is not JSON', {
              code: GatewayClientErrorCodes.BadResponse,
              cause,
            });
          }
          yield ev;
        }
      }
    } catch (err) {
      if (o.signal?.aborted) return;
      throw err;
    }
  }

  return {
    setToken(token) {
      credentials = token ? { type: 'token', token } : undefined;
    },
    setBearer(jwt) {
      credentials = jwt ? { type: 'bearer', token: jwt } : undefined;
    },
    getVersion: (o) => call('GET', '/version', {}, o),

    login: (req, o) => call('POST', '/auth/login', { body: req }, o),
    register: (req, o) => call('POST', '/auth/register', { body: req }, o),
    authorize: (req, o) => call('POST', '/auth/authorize', { body: req }, o),
    oauth2Callback: (code, state, o) =>
      call(
        'GET',
        '/auth/oauth2/callback',
        {
          query: [
            ['code', code],
            ['state', state],
          ],
        },
        o,
      ),

    getCurrentUser: (o) => call('GET', '/user', {}, o),
    getCurrentUserOrgs: (o) => call('GET', '/user/orgs', {}, o),
    getUserRemoteRepos: (rs, o) => call('GET', `/user/remoterepos/${seg(rs)}`, {}, o),
    getUser: (ref, o) => call('GET', `/users/${seg(ref)}`, {}, o),
    getUsers: (list, o) => call('GET', '/users', { query: listQuery(list) }, o),
    createUser: (username, o) => call('POST', '/users', { body: { username } }, o),
    deleteUser: (ref, o) => call('DELETE', `/users/${seg(ref)}`, {}, o),
    createUserLA: (ref, req, o) =>
      call('POST', `/users/${seg(ref)}/linkedaccounts`, { body: req }, o),
    deleteUserLA: (ref, laId, o) =>
      call('DELETE', `/users/${seg(ref)}/linkedaccounts/${seg(laId)}`, {}, o),
    createUserToken: (ref, name, o) =>
      call('POST', `/users/${seg(ref)}/tokens`, { body: { token_name: name } }, o),
    deleteUserToken: (ref, name, o) =>
      call('DELETE', `/users/${seg(ref)}/tokens/${seg(name)}`, {}, o),

    getOrg: (ref, o) => call('GET', `/orgs/${seg(ref)}`, {}, o),
    getOrgs: (list, o) => call('GET', '/orgs', { query: listQuery(list) }, o),
    createOrg: (req, o) => call('POST', '/orgs', { body: req }, o),
    deleteOrg: (ref, o) => call('DELETE', `/orgs/${seg(ref)}`, {}, o),
    getOrgMembers: (ref, o) => call('GET', `/orgs/${seg(ref)}/members`, {}, o),
    addOrgMember: (ref, userRef, role, o) =>
      call('PUT', `/orgs/${seg(ref)}/members/${seg(userRef)}`, { body: { role } }, o),
    removeOrgMember: (ref, userRef, o) =>
      call('DELETE', `/orgs/${seg(ref)}/members/${seg(userRef)}`, {}, o),

    getRemoteSource: (ref, o) => call('GET', `/remotesources/${seg(ref)}`, {}, o),
    getRemoteSources: (list, o) => call('GET', '/remotesources', { query: listQuery(list) }, o),
    createRemoteSource: (req, o) => call('POST', '/remotesources', { body: req }, o),
    updateRemoteSource: (ref, req, o) =>
      call('PUT', `/remotesources/${seg(ref)}`, { body: req }, o),
    deleteRemoteSource: (ref, o) => call('DELETE', `/remotesources/${seg(ref)}`, {}, o),

    getProjectGroup: (ref, o) => call('GET', `/projectgroups/${seg(ref)}`, {}, o),
    getProjectGroupSubgroups: (ref, o) =>
      call('GET', `/projectgroups/${seg(ref)}/subgroups`, {}, o),
    getProjectGroupProjects: (ref, o) => call('GET', `/projectgroups/${seg(ref)}/projects`, {}, o),
    createProjectGroup: (req, o) => call('POST', '/projectgroups', { body: req }, o),
    updateProjectGroup: (ref, req, o) =>
      call('PUT', `/projectgroups/${seg(ref)}`, { body: req }, o),
    deleteProjectGroup: (ref, o) => call('DELETE', `/projectgroups/${seg(ref)}`, {}, o),

    getProject: (ref, o) => call('GET', `/projects/${seg(ref)}`, {}, o),
    createProject: (req, o) => call('POST', '/projects', { body: req }, o),
    updateProject: (ref, req, o) => call('PUT', `/projects/${seg(ref)}`, { body: req }, o),
    deleteProject: (ref, o) => call('DELETE', `/projects/${seg(ref)}`, {}, o),
    reconfigProject: (ref, o) => call('PUT', `/projects/${seg(ref)}/reconfig`, {}, o),
    updateRepoLinkedAccount: (ref, o) =>
      call('PUT', `/projects/${seg(ref)}/updaterepolinkedaccount`, {}, o),

    getSecrets: (kind, ref, list, o) =>
      call('GET', `${itemBase(kind, ref)}/secrets`, { query: treeQuery(list) }, o),
    createSecret: (kind, ref, req, o) =>
      call('POST', `${itemBase(kind, ref)}/secrets`, { body: req }, o),
    updateSecret: (kind, ref, name, req, o) =>
      call('PUT', `${itemBase(kind, ref)}/secrets/${seg(name)}`, { body: req }, o),
    deleteSecret: (kind, ref, name, o) =>
      call('DELETE', `${itemBase(kind, ref)}/secrets/${seg(name)}`, {}, o),
    getVariables: (kind, ref, list, o) =>
      call('GET', `${itemBase(kind, ref)}/variables`, { query: treeQuery(list) }, o),
    createVariable: (kind, ref, req, o) =>
      call('POST', `${itemBase(kind, ref)}/variables`, { body: req }, o),
    updateVariable: (kind, ref, name, req, o) =>
      call('PUT', `${itemBase(kind, ref)}/variables/${seg(name)}`, { body: req }, o),
    deleteVariable: (kind, ref, name, o) =>
      call('DELETE', `${itemBase(kind, ref)}/variables/${seg(name)}`, {}, o),

    getRuns: (owner, list = {}, o) => {
      const q: [string, string][] = [];
      for (const p of list.phase ?? []) q.push(['phase', p]);
      for (const r of list.result ?? []) q.push(['result', r]);
      if (list.subgroup !== undefined) q.push(['subgroup', list.subgroup]);
      if (list.limit !== undefined) q.push(['limit', String(list.limit)]);
      if (list.start !== undefined) q.push(['start', String(list.start)]);
      if (list.asc) q.push(['asc', '']);
      return call('GET', runBase(owner), { query: q }, o);
    },
    getRun: (owner, n, o) => call('GET', `${runBase(owner)}/${n}`, {}, o),
    runAction: (owner, n, req, o) =>
      call('PUT', `${runBase(owner)}/${n}/actions`, { body: req }, o),
    getRunTask: (owner, n, taskId, o) =>
      call('GET', `${runBase(owner)}/${n}/tasks/${seg(taskId)}`, {}, o),
    approveRunTask: (owner, n, taskId, o) =>
      call(
        'PUT',
        `${runBase(owner)}/${n}/tasks/${seg(taskId)}/actions`,
        { body: { action_type: 'approve' } },
        o,
      ),
    getLogs: (owner, n, taskId, which, o = {}) =>
      http.stream('GET', `${runBase(owner)}/${n}/tasks/${seg(taskId)}/logs`, {
        query: logQuery(which),
        signal: o.signal,
      }),
    deleteLogs: (owner, n, taskId, which, o) =>
      call(
        'DELETE',
        `${runBase(owner)}/${n}/tasks/${seg(taskId)}/logs`,
        { query: logQuery(which) },
        o,
      ),
    runEvents: (owner, o = {}) => runEventsOf(owner, o),
    projectCreateRun: (ref, req, o) =>
      call('POST', `/projects/${seg(ref)}/createrun`, { body: req }, o),
    userCreateRun: (req, o) => call('POST', '/user/createrun', { body: req }, o),
    enableMaintenance: (service, o) => call('PUT', `/maintenance/${seg(service)}`, {}, o),
    disableMaintenance: (service, o) => call('DELETE', `/maintenance/${seg(service)}`, {}, o),
    getMaintenanceStatus: (service, o) => call('GET', `/maintenance/${seg(service)}`, {}, o),
    exportData: (service, o = {}) =>
      http.stream('GET', `/export/${seg(service)}`, { signal: o.signal }),
    importData: (service, data, o) => call('POST', `/import/${seg(service)}`, { rawBody: data }, o),
    getBadge: (ref, branch, o) =>
      http.text('GET', `/badges/${seg(ref)}`, {
        query: branch !== undefined ? [['branch', branch]] : [],
        signal: o?.signal,
      }),
  };
}

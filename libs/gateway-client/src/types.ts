/**
 * The JSON shapes of the Agola v0.7 gateway API, as the gateway sends and reads them. They
 * are this package's own (it shares no types with the services).
 */

/** `public` or `private`. */
export type Visibility = 'public' | 'private';

/** A user's role in an org. */
export type MemberRole = 'owner' | 'member';

/** A linked account as listed in a user (no tokens). */
export interface LinkedAccountResponse {
  id: string;
  remote_source_id: string;
  remote_user_name: string;
  remote_user_avatar_url: string;
}

/** A user: `GET /user`, `GET /users/{ref}`. Token values are never sent, only names. */
export interface UserResponse {
  id: string;
  username: string;
  tokens: string[];
  linked_accounts: LinkedAccountResponse[];
}

/** A linked account just created (`POST /users/{ref}/linkedaccounts`). */
export interface LinkedAccount {
  id: string;
  remote_user_id?: string;
  remote_username?: string;
  remote_user_avatar_url?: string;
  remote_source_id?: string;
}

/** `POST /users/{ref}/linkedaccounts` body: the remote source and, for password sources, the login. */
export interface CreateUserLARequest {
  remote_source_name: string;
  remote_source_login_name?: string;
  remote_source_login_password?: string;
}

/** `POST /users/{ref}/linkedaccounts` answer: the account, or the OAuth2 URL to visit first. */
export interface CreateUserLAResponse {
  linked_account: LinkedAccount | null;
  oauth2_redirect: string;
}

/** `POST /auth/login` body. */
export interface LoginUserRequest {
  remote_source_name: string;
  login_name?: string;
  password?: string;
}

/** `POST /auth/login` answer: a login JWT (send it as `bearer`) and the user, or an OAuth2 URL. */
export interface LoginUserResponse {
  oauth2_redirect: string;
  token: string;
  user: UserResponse | null;
}

/** `POST /auth/register` body (Agola flattens the user and the linked account request). */
export interface RegisterUserRequest {
  username: string;
  remote_source_name: string;
  remote_source_login_name?: string;
  remote_source_login_password?: string;
}

/** `POST /auth/register` answer. */
export interface RegisterUserResponse {
  oauth2_redirect: string;
}

/** The remote user found by `POST /auth/authorize` (Go field names, as Agola sends them). */
export interface RemoteUserInfo {
  ID: string;
  LoginName: string;
  Email: string;
}

/** `POST /auth/authorize` answer. */
export interface AuthorizeResponse {
  oauth2_redirect: string;
  remote_user_info: RemoteUserInfo | null;
  remote_source_name: string;
}

/** `GET /auth/oauth2/callback` answer: which flow completed, and its result. */
export interface OAuth2CallbackResponse {
  request_type: 'createuserla' | 'loginuser' | 'authorize' | 'registeruser';
  response: unknown;
}

/** `POST /users/{ref}/tokens` answer: the token value (shown once). */
export interface CreateUserTokenResponse {
  token: string;
}

/** An org. */
export interface OrgResponse {
  id: string;
  name: string;
  visibility?: Visibility;
}

/** `GET /user/orgs` item (Go field names). */
export interface UserOrgsResponse {
  Organization: OrgResponse;
  Role: MemberRole;
}

/** `GET /orgs/{ref}/members` answer. */
export interface OrgMembersResponse {
  organization: OrgResponse;
  members: { user: UserResponse; role: MemberRole }[];
}

/** `PUT /orgs/{ref}/members/{userref}` answer. */
export interface AddOrgMemberResponse {
  organization: OrgResponse;
  user: UserResponse;
  role: MemberRole;
}

/** A remote source as the gateway shows it. */
export interface RemoteSourceResponse {
  id: string;
  name: string;
  auth_type: 'password' | 'oauth2';
  registration_enabled: boolean;
  login_enabled: boolean;
}

/** `POST /remotesources` body. */
export interface CreateRemoteSourceRequest {
  name: string;
  apiurl: string;
  type: 'gitea' | 'github' | 'gitlab';
  auth_type: 'password' | 'oauth2';
  skip_verify?: boolean;
  oauth_2_client_id?: string;
  oauth_2_client_secret?: string;
  ssh_host_key?: string;
  skip_ssh_host_key_check?: boolean;
  registration_enabled?: boolean;
  login_enabled?: boolean;
}

/** `PUT /remotesources/{ref}` body: only the fields to change. */
export type UpdateRemoteSourceRequest = Partial<
  Omit<CreateRemoteSourceRequest, 'type' | 'auth_type'>
>;

/** A project group. */
export interface ProjectGroupResponse {
  id: string;
  name: string;
  path: string;
  parent_path: string;
  visibility: Visibility;
  global_visibility: Visibility;
}

/** `POST /projectgroups` body. */
export interface CreateProjectGroupRequest {
  name: string;
  /** The parent group: an id or a path (`org/acme`, `user/alice/group`). */
  parent_ref: string;
  visibility: Visibility;
}

/** `PUT /projectgroups/{ref}` body: only the fields to change. */
export type UpdateProjectGroupRequest = Partial<CreateProjectGroupRequest>;

/** A project (empty fields are left out, as Agola sends it). */
export interface ProjectResponse {
  id: string;
  name: string;
  path: string;
  parent_path: string;
  visibility: Visibility;
  global_visibility: Visibility;
  pass_vars_to_forked_pr?: boolean;
}

/** `POST /projects` body. */
export interface CreateProjectRequest {
  name: string;
  /** The parent group (id or path); default: the caller's root group. */
  parent_ref?: string;
  visibility: Visibility;
  /** The repository on the forge (`owner/name`). */
  repo_path: string;
  remote_source_name: string;
  skip_ssh_host_key_check?: boolean;
  pass_vars_to_forked_pr?: boolean;
}

/** `PUT /projects/{ref}` body: only the fields to change. */
export interface UpdateProjectRequest {
  name?: string;
  parent_ref?: string;
  visibility?: Visibility;
  pass_vars_to_forked_pr?: boolean;
}

/** What secrets and variables belong to. */
export type ItemParentKind = 'projectgroup' | 'project';

/** A secret (never its data). */
export interface SecretResponse {
  id: string;
  name: string;
  parent_path: string;
}

/** `POST .../secrets` body. */
export interface CreateSecretRequest {
  name: string;
  type?: 'internal';
  data: Record<string, string>;
}

/** One value of a variable: a secret's key, used when `when` matches. */
export interface VariableValueRequest {
  secret_name: string;
  secret_var: string;
  when?: unknown;
}

/** A variable, each value with the parent path of the secret it resolves to ('' when none). */
export interface VariableResponse {
  id: string;
  name: string;
  values: (VariableValueRequest & { matching_secret_parent_path: string; when: unknown })[];
  parent_path: string;
}

/** `POST .../variables` body. */
export interface CreateVariableRequest {
  name: string;
  values: VariableValueRequest[];
}

/** A run's phase. */
export type RunPhase = 'setuperror' | 'queued' | 'cancelled' | 'running' | 'finished';
/** A run's result. */
export type RunResult = 'unknown' | 'stopped' | 'success' | 'failed';

/** A task in a run. */
export interface RunResponseTask {
  id: string;
  name: string;
  status: string;
  level: number;
  depends: Record<string, unknown>;
  waiting_approval: boolean;
  approved: boolean;
  approval_annotations: Record<string, string>;
  start_time: string | null;
  end_time: string | null;
}

/** A run, addressed by its number. */
export interface RunResponse {
  number: number;
  name: string;
  annotations: Record<string, string>;
  phase: RunPhase;
  result: RunResult;
  setup_errors: string[];
  stopping: boolean;
  tasks: Record<string, RunResponseTask>;
  tasks_waiting_approval: string[];
  enqueue_time: string | null;
  start_time: string | null;
  end_time: string | null;
  can_restart_from_scratch: boolean;
  can_restart_from_failed_tasks: boolean;
}

/** A run in a list. */
export type RunsResponse = Pick<
  RunResponse,
  | 'number'
  | 'name'
  | 'annotations'
  | 'phase'
  | 'result'
  | 'tasks_waiting_approval'
  | 'enqueue_time'
  | 'start_time'
  | 'end_time'
>;

/** One step of a run task. */
export interface RunTaskResponseStep {
  phase: string;
  type: string;
  name: string;
  command?: string;
  shell?: string;
  exit_status: number | null;
  start_time: string | null;
  end_time: string | null;
  log_archived: boolean;
}

/** A run task with its steps. */
export interface RunTaskResponse {
  id: string;
  name: string;
  status: string;
  waiting_approval: boolean;
  approved: boolean;
  approval_annotations: Record<string, string>;
  setup_step: { phase: string; name: string; start_time: string | null; end_time: string | null };
  steps: RunTaskResponseStep[];
  start_time: string | null;
  end_time: string | null;
}

/** `PUT .../runs/{n}/actions` body. */
export interface RunActionRequest {
  action_type: 'restart' | 'cancel' | 'stop';
  /** With restart: from the start (else only the failed tasks). */
  from_start?: boolean;
}

/** `POST /projects/{ref}/createrun` body: exactly one of branch, tag or ref. */
export interface ProjectCreateRunRequest {
  branch?: string;
  tag?: string;
  ref?: string;
  commit_sha?: string;
}

/** `POST /user/createrun` body (what `agola directrun` sends after pushing to the git server). */
export interface UserCreateRunRequest {
  repo_uuid: string;
  /** `<user id>/<repo uuid>`. */
  repo_path: string;
  branch?: string;
  tag?: string;
  ref?: string;
  commit_sha: string;
  message?: string;
  pull_request_ref_regexes?: string[];
  variables?: Record<string, string>;
}

/** Whose runs: a project's or a user's direct runs. */
export interface RunOwner {
  kind: 'project' | 'user';
  /** The project ref (id or path) or the user ref (id or name). */
  ref: string;
}

/**
 * One event of `GET /runs/events` (an Agola-TS route): a run of the watched project or user
 * changed phase or result.
 */
export interface RunEvent {
  /** The runservice's event sequence (increasing, a decimal string). */
  sequence: string;
  /** The run's id. */
  run_id: string;
  /** The run's number in its project or user (`getRun(owner, run_number)`). */
  run_number: number;
  /** The run's phase after the change. */
  phase: RunPhase;
  /** The run's result after the change. */
  result: RunResult;
}

/** `GET .../runs` options. */
export interface GetRunsOptions {
  phase?: RunPhase[];
  result?: RunResult[];
  /** Also the runs of sub groups (branches, tags...) . */
  subgroup?: string;
  /** At most this many (default 25, max 40). */
  limit?: number;
  /** Only runs older (or, with `asc`, newer) than this run number. */
  start?: number;
  asc?: boolean;
}

/** Which log of a task: its setup or one step. */
export type LogSelector = { setup: true } | { step: number };

/** `GET /version` answer. */
export interface VersionResponse {
  service: string;
  version: string;
}

/** Paging of the entity lists (users, orgs, remote sources): by name. */
export interface ListOptions {
  limit?: number;
  /** Start after this name. */
  start?: string;
  asc?: boolean;
}

/** A service whose data can be exported and imported, and put in maintenance mode. */
export type MaintenanceService = 'configstore' | 'runservice';

/** `GET /maintenance/{service}`: whether maintenance mode is asked for and served. */
export interface MaintenanceStatusResponse {
  /** Maintenance mode was enabled (and not disabled since). */
  requested_status: boolean;
  /** The service serves its maintenance mode now (it switches a moment after the request). */
  current_status: boolean;
}

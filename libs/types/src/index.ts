export { NAME_REGEXP, MAX_NAME_LENGTH, isUuid, isValidName } from './names.js';
export { VISIBILITIES, isVisibility, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './common.js';
export type { Visibility, ListOptions, MaintenanceStatusResponse } from './common.js';
export type {
  User,
  LinkedAccount,
  CreateUserRequest,
  CreateUserLARequest,
  UpdateUserRequest,
  UpdateUserLARequest,
  CreateUserTokenRequest,
  CreateUserTokenResponse,
  UserQuery,
} from './user.js';
export { MEMBER_ROLES, isMemberRole } from './org.js';
export type {
  Org,
  OrgMember,
  MemberRole,
  CreateOrgRequest,
  AddOrgMemberRequest,
  OrgMemberResponse,
  UserOrgsResponse,
} from './org.js';
export {
  REMOTE_SOURCE_TYPES,
  REMOTE_SOURCE_AUTH_TYPES,
  SUPPORTED_AUTH_TYPES,
  isAuthTypeSupported,
} from './remote-source.js';
export type {
  RemoteSource,
  RemoteSourceType,
  RemoteSourceAuthType,
  CreateUpdateRemoteSourceRequest,
} from './remote-source.js';
export type {
  ProjectGroup,
  Parent,
  ProjectGroupParentType,
  OwnerType,
  Augmented,
  ProjectGroupResponse,
  CreateUpdateProjectGroupRequest,
} from './project-group.js';
export type {
  Project,
  ProjectParent,
  ProjectResponse,
  RemoteRepositoryConfigType,
  CreateUpdateProjectRequest,
} from './project.js';
export type {
  Secret,
  SecretParent,
  SecretResponse,
  CreateUpdateSecretRequest,
  Variable,
  VariableValue,
  VariableResponse,
  CreateUpdateVariableRequest,
} from './secret.js';
export {
  ARCHS,
  RUN_PHASES,
  RUN_RESULTS,
  RUN_TASK_STATUSES,
  RUN_TASK_FETCH_PHASES,
  RUN_CONFIG_TASK_DEPEND_CONDITIONS,
  RUN_CONFIG_STEP_TYPES,
  RUN_ACTION_TYPES,
  RUN_TASK_ACTION_TYPES,
  RUN_GENERIC_SETUP_ERROR_NAME,
  SECRET_ENV_ANNOTATION,
  isRunPhaseFinished,
  isRunTaskStatusFinished,
} from './run.js';
export type {
  Arch,
  RunPhase,
  RunResult,
  RunTaskStatus,
  RunTaskFetchPhase,
  RunConfigTaskDependCondition,
  RunConfigTaskDepend,
  VolumeTmpFS,
  Volume,
  Container,
  Runtime,
  DockerRegistryAuthType,
  DockerRegistryAuth,
  SaveContent,
  RunStep,
  SaveToWorkspaceStep,
  RestoreWorkspaceStep,
  SaveCacheStep,
  RestoreCacheStep,
  RunConfigStep,
  RunConfigTask,
  RunConfig,
  RunTaskStep,
  RunTask,
  Run,
  RunEvent,
  RunCreateRequest,
  RunActionType,
  RunActionsRequest,
  RunTaskActionType,
  RunTaskActionsRequest,
  RunResponse,
  GetRunsResponse,
} from './run.js';
export { EXECUTOR_TASK_PHASES, isExecutorTaskPhaseFinished } from './executor.js';
export type {
  ExecutorTaskPhase,
  Executor,
  WorkspaceOperation,
  ExecutorTaskSpecData,
  ExecutorTaskSpec,
  ExecutorTaskStepStatus,
  ExecutorTaskStatus,
  ExecutorTask,
  ExecutorTaskWithData,
} from './executor.js';

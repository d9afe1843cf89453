export { NAME_REGEXP, MAX_NAME_LENGTH, isUuid, isValidName } from './names.js';
export { VISIBILITIES, isVisibility, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './common.js';
export type { Visibility, ListOptions } from './common.js';
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

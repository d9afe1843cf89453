export { createGitSource, isOAuth2Source, isPasswordSource } from './factory.js';
export type { GitSourceConfig, GitSourceFor } from './factory.js';
export { createGiteaSource } from './gitea.js';
export type { GiteaConfig, GiteaSource } from './gitea.js';
export { createGitHubSource, GITHUB_API_URL, GITHUB_WEB_URL } from './github.js';
export type { GitHubConfig, GitHubSource } from './github.js';
export { createGitLabSource } from './gitlab.js';
export type { GitLabConfig, GitLabSource } from './gitlab.js';
export { createAgolaGitSource } from './agolagit.js';
export type { AgolaGitConfig, AgolaGitSource } from './agolagit.js';
export type { CommonSourceOptions } from './common.js';
export { GitSourceErrorCodes } from './codes.js';
export type { GitSourceErrorCode } from './codes.js';
export {
  GitSourceError,
  isGitSourceNotExist,
  isGitSourceUnauthorized,
  isWebhookSignatureError,
} from './errors.js';
export type { GitSourceErrorOptions } from './errors.js';
export type {
  CallOptions,
  Commit,
  CommitStatus,
  CommitStatusInfo,
  CommitStatusOptions,
  GitSource,
  GitSourceType,
  Logger,
  OAuth2Source,
  OAuth2Token,
  ParsedRef,
  PasswordSource,
  Ref,
  RefType,
  RepoInfo,
  UserInfo,
  UserSource,
  WebhookData,
  WebhookDataRepo,
  WebhookEvent,
  WebhookRequest,
} from './types.js';
export { gitSourceForAccount, gitSourceForProject, remoteSourceGitSource } from './account.js';
export type { AccountConfigstore, ProjectGitSource } from './account.js';

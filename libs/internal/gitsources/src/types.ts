/** The git source (remote source) types Agola knows. */
export type GitSourceType = 'gitea' | 'github' | 'gitlab' | 'agolagit';

/** A commit status, as Agola's notification service reports runs. */
export type CommitStatus = 'pending' | 'success' | 'error' | 'failed';

/** The kind of a git ref. */
export type RefType = 'branch' | 'tag' | 'pull_request';

/** What a webhook is about. */
export type WebhookEvent = 'push' | 'tag' | 'pull_request';

/** `{ signal }` accepted by every call that does I/O. */
export interface CallOptions {
  /** Aborts the request (the Go `ctx`). */
  signal?: AbortSignal;
}

/** A repository as Agola keeps it. */
export interface RepoInfo {
  /** The provider's repository id (as a string). */
  id: string;
  /** `owner/name` (GitLab: the full namespace path). */
  path: string;
  htmlURL: string;
  sshCloneURL: string;
  httpCloneURL: string;
}

/** The user a token belongs to. */
export interface UserInfo {
  id: string;
  loginName: string;
  email: string;
}

/** A ref and the commit it points to. */
export interface Ref {
  ref: string;
  commitSHA: string;
}

/** A commit. */
export interface Commit {
  sha: string;
  message: string;
}

/** A ref split into its type and name (a branch, a tag or a pull request id). */
export interface ParsedRef {
  type: RefType;
  name: string;
}

/** A commit status as read back from the provider. */
export interface CommitStatusInfo {
  /** The status, mapped back to Agola's values (GitLab's `failed` reads back as `failed`). */
  state: CommitStatus;
  /** The provider's own state name (`failure`, `failed`, `running`...). */
  providerState: string;
  context: string;
  description: string;
  targetURL: string;
}

/** What {@link GitSource.createCommitStatus} sets besides the state. */
export interface CommitStatusOptions extends CallOptions {
  targetURL?: string;
  description?: string;
  /** Agola uses `<agolaID>/<projectName>/<runName>`. */
  context?: string;
}

/** The repo part of {@link WebhookData}. */
export interface WebhookDataRepo {
  webURL: string;
  path: string;
}

/** A webhook normalized as Agola's `types.WebhookData`. */
export interface WebhookData {
  event: WebhookEvent;
  /** The SSH clone URL of the repository the webhook is about. */
  sshURL: string;
  compareLink?: string;
  commitLink?: string;
  commitSHA: string;
  /** The ref that holds the commit (`refs/heads/x`, `refs/tags/x`, `refs/pull/1/head`). */
  ref: string;
  /** First commit message of a push, `Tag <name>` for a tag, the title of a pull request. */
  message: string;
  sender: string;
  avatar?: string;
  branch?: string;
  branchLink?: string;
  tag?: string;
  tagLink?: string;
  pullRequestID?: string;
  pullRequestLink?: string;
  /** Whether a pull request comes from the same repository (false for forks). */
  prFromSameRepo?: boolean;
  repo: WebhookDataRepo;
}

/** A received webhook request: its headers and its raw body (signatures cover the raw bytes). */
export interface WebhookRequest {
  /** Header names in any case (node's lower-cased `req.headers` works as is). */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | string;
}

/** An OAuth2 token. */
export interface OAuth2Token {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  /** When the access token expires, if the server said. */
  expiresAt?: Date;
  scope?: string;
}

/**
 * A git provider as Agola uses it (Agola's `gitsource.GitSource`): repos, files, deploy keys,
 * webhooks, commit statuses, refs and links.
 */
export interface GitSource {
  readonly type: GitSourceType;
  /** The repository's id, path and URLs. @throws GitSourceError `ERR_GITSOURCE_NOT_EXIST` */
  getRepoInfo(repoPath: string, options?: CallOptions): Promise<RepoInfo>;
  /** A file's bytes at a commit (or ref). @throws GitSourceError `ERR_GITSOURCE_NOT_EXIST` */
  getFile(repoPath: string, commit: string, file: string, options?: CallOptions): Promise<Buffer>;
  /** Deletes every deploy key with this title. */
  deleteDeployKey(repoPath: string, title: string, options?: CallOptions): Promise<void>;
  /** Adds a deploy key. */
  createDeployKey(
    repoPath: string,
    title: string,
    pubKey: string,
    readOnly: boolean,
    options?: CallOptions,
  ): Promise<void>;
  /** Makes the deploy key with this title hold `pubKey` (untouched when it already does). */
  updateDeployKey(
    repoPath: string,
    title: string,
    pubKey: string,
    readOnly: boolean,
    options?: CallOptions,
  ): Promise<void>;
  /** Deletes every webhook of the repo whose URL is exactly `url`. */
  deleteRepoWebhook(repoPath: string, url: string, options?: CallOptions): Promise<void>;
  /** Creates a webhook for pushes, tags and pull requests, signed with `secret`. */
  createRepoWebhook(
    repoPath: string,
    url: string,
    secret: string,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Verifies a received webhook against `secret` and normalizes it. Returns null for events
   * Agola ignores (a pull request that is closed or has no new commits).
   *
   * @throws GitSourceError `ERR_GITSOURCE_WEBHOOK_SIGNATURE` or `ERR_GITSOURCE_WEBHOOK_INVALID`
   */
  parseWebhook(request: WebhookRequest, secret: string): WebhookData | null;
  /** Sets a commit status. */
  createCommitStatus(
    repoPath: string,
    commitSHA: string,
    status: CommitStatus,
    options?: CommitStatusOptions,
  ): Promise<void>;
  /** The commit statuses of a commit, newest first. */
  listCommitStatuses(
    repoPath: string,
    commitSHA: string,
    options?: CallOptions,
  ): Promise<CommitStatusInfo[]>;
  /** The repos where the user may create deploy keys and webhooks (all pages). */
  listUserRepos(options?: CallOptions): Promise<RepoInfo[]>;
  /** A ref (`refs/heads/x`, `refs/tags/x`) and its commit. */
  getRef(repoPath: string, ref: string, options?: CallOptions): Promise<Ref>;
  /** Splits a ref into its type and name. @throws GitSourceError `ERR_GITSOURCE_UNSUPPORTED_REF` */
  refType(ref: string): ParsedRef;
  /** A commit and its message. */
  getCommit(repoPath: string, commitSHA: string, options?: CallOptions): Promise<Commit>;
  branchRef(branch: string): string;
  tagRef(tag: string): string;
  pullRequestRef(prID: string): string;
  commitLink(repo: RepoInfo, commitSHA: string): string;
  branchLink(repo: RepoInfo, branch: string): string;
  tagLink(repo: RepoInfo, tag: string): string;
  pullRequestLink(repo: RepoInfo, prID: string): string;
}

/** A source that can say who a token belongs to. */
export interface UserSource {
  getUserInfo(options?: CallOptions): Promise<UserInfo>;
}

/** A source that logs in with a user name and a password (Gitea). */
export interface PasswordSource extends UserSource {
  /**
   * Logs in with the password and returns an access token named `tokenName` (Agola uses
   * `agola-<id>`), created for the occasion.
   *
   * @throws GitSourceError `ERR_GITSOURCE_UNAUTHORIZED` when the password is wrong
   */
  loginPassword(
    username: string,
    password: string,
    tokenName: string,
    options?: CallOptions,
  ): Promise<string>;
}

/** A source that logs in through OAuth2's authorization-code grant. */
export interface OAuth2Source extends UserSource {
  /** The URL to send the user's browser to. */
  getOAuth2AuthorizationURL(callbackURL: string, state: string): string;
  /** Exchanges the code the callback received. @throws GitSourceError `ERR_GITSOURCE_OAUTH2` */
  requestOAuth2Token(
    callbackURL: string,
    code: string,
    options?: CallOptions,
  ): Promise<OAuth2Token>;
  /** Gets a new access token with a refresh token. @throws GitSourceError `ERR_GITSOURCE_OAUTH2` */
  refreshOAuth2Token(refreshToken: string, options?: CallOptions): Promise<OAuth2Token>;
}

/** The logger the git sources accept: the subset of pino's API they use. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Error codes of `@agola-ts/gitserver` (each is documented in docs/errors.md). */
export const GitserverErrorCodes = {
  /** The gitserver config is invalid (the message names the key). */
  InvalidConfig: 'ERR_GITSERVER_INVALID_CONFIG',
  /** A repository path is refused (`..`, empty or dot segments, a parent ending in `.git`...). */
  InvalidRepoPath: 'ERR_GITSERVER_INVALID_REPO_PATH',
  /** A ref or file path of a raw file request is refused (starts with `-`, has `:`...). */
  InvalidRef: 'ERR_GITSERVER_INVALID_REF',
  /** A request names an unknown git service or a path the git server does not serve. */
  BadRequest: 'ERR_GITSERVER_BAD_REQUEST',
  /** The repository, ref or file does not exist. */
  NotExist: 'ERR_GITSERVER_NOT_EXIST',
  /** A git command failed (the log has its output). */
  Git: 'ERR_GITSERVER_GIT',
} as const;

/** One of {@link GitserverErrorCodes}. */
export type GitserverErrorCode = (typeof GitserverErrorCodes)[keyof typeof GitserverErrorCodes];

/** Error codes of `@agola-ts/gitsources` (each is documented in docs/errors.md). */
export const GitSourceErrorCodes = {
  /** The provider answered 404: the repo, file, ref, commit or user does not exist (or is hidden). */
  NotExist: 'ERR_GITSOURCE_NOT_EXIST',
  /** The provider answered 401, or a password login failed: the token or password is wrong or expired. */
  Unauthorized: 'ERR_GITSOURCE_UNAUTHORIZED',
  /** The provider answered 403: the token lacks a permission (deploy keys and webhooks need repo admin). */
  Forbidden: 'ERR_GITSOURCE_FORBIDDEN',
  /** The provider answered another error status (400, 422, 5xx); the message holds its text. */
  Remote: 'ERR_GITSOURCE_REMOTE',
  /** The provider could not be reached, or did not answer within the timeout. */
  RequestFailed: 'ERR_GITSOURCE_REQUEST_FAILED',
  /** The provider answered 2xx with a body that is not what its API documents. */
  BadResponse: 'ERR_GITSOURCE_BAD_RESPONSE',
  /** A repo path is not valid for the provider (`owner/name` for Gitea and GitHub). */
  InvalidRepoPath: 'ERR_GITSOURCE_INVALID_REPO_PATH',
  /** A ref is not a branch, tag or pull request ref of the provider. */
  UnsupportedRef: 'ERR_GITSOURCE_UNSUPPORTED_REF',
  /** A webhook's signature (or GitLab token) is missing or does not match the secret. */
  WebhookSignature: 'ERR_GITSOURCE_WEBHOOK_SIGNATURE',
  /** A webhook is not one that Agola handles: unknown event, bad JSON, unsupported ref. */
  WebhookInvalid: 'ERR_GITSOURCE_WEBHOOK_INVALID',
  /** The OAuth2 authorization server refused a code exchange or a refresh. */
  OAuth2: 'ERR_GITSOURCE_OAUTH2',
  /** The git source configuration is invalid (missing API URL, bad URL, missing OAuth2 client). */
  InvalidConfig: 'ERR_GITSOURCE_INVALID_CONFIG',
} as const;

/** One of {@link GitSourceErrorCodes}. */
export type GitSourceErrorCode = (typeof GitSourceErrorCodes)[keyof typeof GitSourceErrorCodes];

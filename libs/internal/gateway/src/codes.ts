/** Error codes of `@agola-ts/gateway` (each is documented in docs/errors.md). */
export const GatewayErrorCodes = {
  /** The gateway config is invalid (missing URL, unknown token signing method, unreadable key). */
  InvalidConfig: 'ERR_GATEWAY_INVALID_CONFIG',
  /** The request needs a logged-in user or the admin token (HTTP 401). */
  Unauthenticated: 'ERR_GATEWAY_UNAUTHENTICATED',
  /** The token, login JWT or `access_token` given is not valid (unknown, expired, tampered; HTTP 401). */
  InvalidToken: 'ERR_GATEWAY_INVALID_TOKEN',
  /** The caller may not do this (HTTP 403). */
  Forbidden: 'ERR_GATEWAY_FORBIDDEN',
  /** A request field is missing or invalid (HTTP 400); the message names the field. */
  InvalidRequest: 'ERR_GATEWAY_INVALID_REQUEST',
  /** Logging in to the remote source failed: wrong credentials or a disabled login (HTTP 401). */
  RemoteLoginFailed: 'ERR_GATEWAY_REMOTE_LOGIN_FAILED',
  /** The remote source (git forge) could not do what was asked (HTTP 400 or 500). */
  RemoteSource: 'ERR_GATEWAY_REMOTE_SOURCE',
  /** The run config could not be fetched from the git source at the commit (after retries). */
  ConfigFetch: 'ERR_GATEWAY_CONFIG_FETCH',
  /** A webhook delivery is unusable: no or unknown `projectid`, an unparsable payload (HTTP 400; nothing created). */
  WebhookInvalid: 'ERR_GATEWAY_WEBHOOK_INVALID',
  /** A webhook's signature (or GitLab token) does not match the project's webhook secret (HTTP 400; nothing created). */
  WebhookSignature: 'ERR_GATEWAY_WEBHOOK_SIGNATURE',
  /** The git server behind `/repos` cannot be reached or is not configured (HTTP 502). */
  GitserverUnavailable: 'ERR_GATEWAY_GITSERVER_UNAVAILABLE',
  /** A run events client (`GET /runs/events`) read too slowly and was dropped: its stream ends with this `error` event. */
  RunEventsOverflow: 'ERR_GATEWAY_RUN_EVENTS_OVERFLOW',
} as const;

/** One of {@link GatewayErrorCodes}. */
export type GatewayErrorCode = (typeof GatewayErrorCodes)[keyof typeof GatewayErrorCodes];

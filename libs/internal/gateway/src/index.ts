export { createGateway } from './gateway.js';
export type { Gateway, GatewayDeps } from './gateway.js';
export { DEFAULT_AGOLA_ID, DEFAULT_TOKEN_DURATION_MS, gatewaySchema } from './config.js';
export type { GatewayConfig, TokenSigningConfig } from './config.js';
export { DEFAULT_READ_CACHE_SETTINGS } from './context.js';
export type { GatewayContext, ReadCacheSettings } from './context.js';
export { createReadCache } from './read-cache.js';
export type { ReadCache } from './read-cache.js';
export {
  authenticate,
  credentialOf,
  registerAuth,
  requireAdmin,
  requireAuth,
  requireUser,
} from './auth.js';
export type { Credential, RequestAuth } from './auth.js';
export {
  callerOrgs,
  canDoRunActions,
  canDoUserRunActions,
  canGetProject,
  canGetProjectGroup,
  canGetUserRuns,
  canUpdateProject,
  canUpdateProjectGroup,
  isMember,
  isOrgMember,
  isOrgOwner,
  isOwner,
  loadOwnedProject,
  loadOwnedProjectGroup,
  loadProject,
  loadProjectGroup,
} from './permissions.js';
export { passThrough, isRemoteNotExist } from './downstream.js';
export { createJwtSigner } from './jwt.js';
export {
  registerReposProxy,
  cloneURLWithToken,
  signCloneToken,
  CLONE_TOKEN_DURATION_MS,
  CLONE_TOKEN_REPO_CLAIM,
  CLONE_TOKEN_USER,
} from './repos-proxy.js';
export type { JwtClaims, JwtSigner } from './jwt.js';
export { configScript, loadWebBundle } from './web-bundle.js';
export type { WebBundle, WebBundleOptions } from './web-bundle.js';
export { GATEWAY_VERSION } from './routes/version.js';
export { GatewayErrorCodes } from './codes.js';
export type { GatewayErrorCode } from './codes.js';
export { DEFAULT_RUN_EVENTS_SETTINGS } from './runs/run-events.js';
export type { GatewayRunEvent, RunEventsSettings, RunEventsStats } from './runs/run-events.js';

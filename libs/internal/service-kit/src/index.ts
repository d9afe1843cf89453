export { API_PREFIX } from './api-prefix.js';
export {
  createServiceServer,
  DEFAULT_BODY_LIMIT,
  DEFAULT_MAX_BODY_DEPTH,
  DEFAULT_MAX_PARAM_LENGTH,
} from './server.js';
export type { ServiceServerOptions } from './server.js';
export type { ServiceLogger } from './service-logger.js';
export { errorResponse, handleError } from './error-handler.js';
export { loggableUrl } from './request-log.js';
export type { ErrorResponse } from './error-handler.js';
export { REQUEST_ID_HEADER } from './request-id.js';
export { created, noContent } from './replies.js';
export { runService } from './run-service.js';
export {
  createServiceHealth,
  HEALTH_PATH,
  healthProblemOf,
  sendHealth,
  ServiceHealth,
  unavailableResponse,
  withUnavailable,
} from './health.js';
export type { HealthProblem, HealthReason, HealthReport } from './health.js';
export type { RunServiceOptions, ServiceContext, ServiceRoutes } from './run-service.js';
export { listenWithRetry } from './listen.js';
export type { ListenAddress, ListenRetryOptions } from './listen.js';
export { maintenanceRoutes } from './maintenance-routes.js';
export type { MaintenanceRoutesOptions, ExportImportSource } from './maintenance-routes.js';
export { loadConfig, parseConfigText } from './config/load-config.js';
export { serviceSection, SERVICE_SECTIONS } from './config/agola-config.js';
export type { AgolaConfig, ServiceSectionName } from './config/agola-config.js';
export { ConfigError } from './config/config-error.js';
export {
  boolean,
  duration,
  integer,
  list,
  object,
  oneOf,
  optional,
  refine,
  scalar,
  string,
  stringMap,
  tagged,
  url,
  urlList,
} from './config/schema.js';
export type { Schema, Infer, Issue, ObjectOf } from './config/schema.js';
export {
  webSchema,
  etcdSchema,
  objectStorageSchema,
  dataServiceSchema,
  parseListenAddress,
} from './config/sections.js';
export type { WebConfig, EtcdConfig, DataServiceConfig, HostPort } from './config/sections.js';
export { ServiceKitErrorCodes } from './codes.js';
export type { ServiceKitErrorCode } from './codes.js';
export { prepareReadDbFile, DATA_DIR_MODE, READDB_FILE_MODE } from './readdb-file.js';
export {
  reportFollower,
  reportWalsLost,
  reportStorageSync,
  probeStorage,
  WALS_LOST_DEGRADED_MS,
  STORAGE_SYNC_DEGRADED_AFTER_MS,
} from './data-health.js';
export { startDataService } from './data-service.js';
export type { DataServiceStartOptions, RunningDataService } from './data-service.js';

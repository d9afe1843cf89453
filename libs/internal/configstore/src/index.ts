export {
  createConfigstore,
  CONFIGSTORE_ETCD_PREFIX,
  CONFIGSTORE_BASE_PATH,
  READDB_FILE,
  WALS_LOST_DEGRADED_MS,
} from './configstore.js';
export type {
  Configstore,
  ConfigstoreConfig,
  ConfigstoreDeps,
  ConfigstoreStartOptions,
} from './configstore.js';
export { ConfigstoreErrorCodes } from './codes.js';
export type { ConfigstoreErrorCode } from './codes.js';
export { changeGroups } from './change-groups.js';
export { DATA_TYPES } from './readdb.js';

export {
  createConfigstore,
  CONFIGSTORE_ETCD_PREFIX,
  CONFIGSTORE_BASE_PATH,
  READDB_FILE,
} from './configstore.js';
export type { Configstore, ConfigstoreConfig, ConfigstoreDeps } from './configstore.js';
export { ConfigstoreErrorCodes } from './codes.js';
export type { ConfigstoreErrorCode } from './codes.js';
export { changeGroups } from './change-groups.js';
export { DATA_TYPES } from './readdb.js';

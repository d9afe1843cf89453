export {
  createRunservice,
  runserviceSchema,
  RUNSERVICE_ETCD_PREFIX,
  RUNSERVICE_BASE_PATH,
  READDB_FILE,
} from './runservice.js';
export type {
  Runservice,
  RunserviceConfig,
  RunserviceDeps,
  RunserviceSection,
} from './runservice.js';
export { Engine, DEFAULT_INTERVALS, DEFAULT_EXPIRE_MS } from './engine.js';
export type { RunserviceIntervals, EngineSettings, EngineDeps } from './engine.js';
export { encodeRunToken, decodeRunToken } from './etcd-store.js';
export type { RunChangeGroupsToken } from './etcd-store.js';
export { etcdKeys, ostKeys } from './keys.js';
export { DATA_TYPES } from './readdb.js';
export { RunserviceErrorCodes } from './codes.js';
export type { RunserviceErrorCode } from './codes.js';

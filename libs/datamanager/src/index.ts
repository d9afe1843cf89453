export { DataManager, createDataManager } from './data-manager.js';
export type { WriteResult, ReadObjectResult, DataManagerHooks } from './data-manager.js';
export type { DataManagerOptions, DataManagerIntervals } from './options.js';
export type { StorageSyncStatus } from './sync-tracker.js';
export type {
  Action,
  ActionType,
  DataEntry,
  DataFileRef,
  DataStatus,
  WalStatus,
  WalData,
  WalHeader,
  ChangeGroupsToken,
} from './types.js';
export type { SnapshotResult } from './snapshot.js';
export {
  validateChangeGroupName,
  encodeChangeGroupsToken,
  decodeChangeGroupsToken,
  MAX_CHANGE_GROUP_LENGTH,
} from './change-groups.js';
export { ostPaths, etcdKeys } from './paths.js';
export { DataManagerErrorCodes } from './codes.js';
export type { FollowSink, SinkTransaction, SinkPosition } from './sink.js';
export { SinkApplyError } from './follow.js';
export type { FollowOptions, FollowStatus, FollowEntryRef, LostWals } from './follow.js';
export { createMemorySink } from './memory-sink.js';
export type { MemorySink } from './memory-sink.js';
export type { ImportResult } from './export-import.js';
export {
  MAINTENANCE_KEY,
  isMaintenanceEnabled,
  setMaintenanceMode,
  runMaintenanceAware,
} from './maintenance.js';
export type { ServiceMode, RunMaintenanceAwareOptions } from './maintenance.js';
export { runGroup } from './run-group.js';

export { startEtcd } from './etcd.js';
export type { EtcdServer, StartEtcdOptions } from './etcd.js';
export { startS3, createS3Client, randomBucketName } from './s3.js';
export type { S3Server, S3Connection, StartS3Options } from './s3.js';
export { createTestLogger, humanLine } from './logger.js';
export type { TestLoggerOptions } from './logger.js';
export { sharedEtcdEndpoint, freshBucket, uniquePrefix } from './shared.js';
export type { SharedComponents } from './shared.js';
export { getFreePort } from './ports.js';
export { findBinary } from './find-binary.js';
export { ManagedProcess } from './managed-process.js';
export type { ManagedProcessOptions } from './managed-process.js';
export { startContainerRuntime, TEST_BUSYBOX_IMAGE } from './container-runtime.js';
export type { ContainerRuntime, StartContainerRuntimeOptions } from './container-runtime.js';
export { sharedContainerRuntime } from './shared-containers.js';
export type { SharedContainerRuntime } from './shared-containers.js';
export { TestkitErrorCodes } from './codes.js';
export { startForge } from './forge/forge.js';
export type {
  Forge,
  ForgeType,
  StartForgeOptions,
  ForgeUserInfo,
  ForgeRepoInfo,
  ForgeDelivery,
} from './forge/forge.js';
export type { ForgeAccess, ForgeDeployKey, ForgeHook, ForgeStatus } from './forge/state.js';

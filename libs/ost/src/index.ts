export type {
  ObjectStorage,
  ObjectInfo,
  CallOptions,
  ReadOptions,
  WriteOptions,
  ListOptions,
  WriteData,
  CommonStorageOptions,
} from './types.js';
export { OstErrorCodes } from './codes.js';
export type { OstErrorCode } from './codes.js';
export { isNotExist } from './errors.js';
export type { OstLogger } from './logger.js';
export { withBasePath } from './storage.js';
export { compareKeys, validateKey } from './keys.js';
export { createPosixStorage } from './posix/posix-storage.js';
export type { PosixStorageOptions } from './posix/posix-storage.js';
export { createPosixFlatStorage } from './posixflat/posixflat-storage.js';
export type { PosixFlatStorageOptions } from './posixflat/posixflat-storage.js';
export { escapeFlatKey, unescapeFlatKey } from './posixflat/posixflat-escape.js';
export { createMemoryStorage } from './memory/memory-storage.js';
export type { MemoryStorageOptions } from './memory/memory-storage.js';
export { createObjectStorage } from './config.js';
export type {
  ObjectStorageConfig,
  PosixStorageConfig,
  S3StorageConfig,
  CreateObjectStorageOptions,
} from './config.js';

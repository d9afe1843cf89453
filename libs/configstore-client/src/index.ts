export { createConfigstoreClient } from './client.js';
export type {
  ConfigstoreClient,
  ConfigstoreClientOptions,
  CallOptions,
  ItemParentKind,
  TreeOptions,
} from './client.js';
export { ConfigstoreClientErrorCodes } from './codes.js';
export type { ConfigstoreClientErrorCode } from './codes.js';

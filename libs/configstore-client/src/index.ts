export { createConfigstoreClient } from './client.js';
export type {
  ConfigstoreClient,
  ConfigstoreClientOptions,
  CallOptions,
  ItemParentKind,
  TreeOptions,
} from './client.js';

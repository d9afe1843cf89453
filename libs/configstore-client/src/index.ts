export { createConfigstoreClient } from './client.js';
export type { ConfigstoreClient, ConfigstoreClientOptions, CallOptions } from './client.js';

// The runservice's public surface; filled in as the service grows.
export { RunserviceErrorCodes } from './codes.js';
export type { RunserviceErrorCode } from './codes.js';

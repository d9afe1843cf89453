export { createRunserviceClient } from './client.js';
export type {
  RunserviceClient,
  RunserviceClientOptions,
  CallOptions,
  GetRunsOptions,
  GetGroupRunsOptions,
  RunCreateResponse,
  LogRef,
  RunEventsOptions,
} from './client.js';
export { plannedRunToCreateRequest } from './planned-run.js';
export type { PlannedRunRequestOptions } from './planned-run.js';

export {
  approvalChangeGroup,
  approversOf,
  createScheduler,
  DEFAULT_SCHEDULER_INTERVALS,
  groupChangeGroup,
  schedulerSchema,
} from './scheduler.js';
export type {
  Scheduler,
  SchedulerConfig,
  SchedulerDeps,
  SchedulerIntervals,
  SchedulerSection,
} from './scheduler.js';
export { SchedulerErrorCodes } from './codes.js';
export type { SchedulerErrorCode } from './codes.js';

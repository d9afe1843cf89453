/** Error codes of `@agola-ts/scheduler` (each is documented in docs/errors.md). */
export const SchedulerErrorCodes = {
  /** The scheduler config is invalid (the message names the key). */
  InvalidConfig: 'ERR_SCHEDULER_INVALID_CONFIG',
} as const;

/** One of {@link SchedulerErrorCodes}. */
export type SchedulerErrorCode = (typeof SchedulerErrorCodes)[keyof typeof SchedulerErrorCodes];

import { describe, expect, it } from 'vitest';
import { EXECUTOR_TASK_PHASES, isExecutorTaskPhaseFinished } from './executor.js';
import {
  RUN_PHASES,
  RUN_TASK_STATUSES,
  isRunPhaseFinished,
  isRunTaskStatusFinished,
} from './run.js';

describe('run states', () => {
  it('knows the finished run phases', () => {
    expect(RUN_PHASES.filter(isRunPhaseFinished)).toEqual(['setuperror', 'cancelled', 'finished']);
  });
  it('knows the finished run task statuses', () => {
    expect(RUN_TASK_STATUSES.filter(isRunTaskStatusFinished)).toEqual([
      'skipped',
      'cancelled',
      'stopped',
      'success',
      'failed',
    ]);
  });
  it('knows the finished executor task phases', () => {
    expect(EXECUTOR_TASK_PHASES.filter(isExecutorTaskPhaseFinished)).toEqual([
      'cancelled',
      'stopped',
      'success',
      'failed',
    ]);
  });
});

/**
 * How the task page shows steps: which are unfolded at first, where each step's log comes
 * from, durations.
 */

/** The step fields used here (a gateway task step or setup step fits). */
export interface StepState {
  phase: string;
  start_time?: string | null;
  end_time?: string | null;
}

/** A step phase (an executor task phase) after which the step's log does not grow. */
export function isStepFinished(phase: string): boolean {
  return phase === 'success' || phase === 'failed' || phase === 'stopped' || phase === 'cancelled';
}

/**
 * Where a step's log comes from: nothing yet (not started), a followed stream (running: the
 * gateway's `follow`, which ends when the step ends), or one fetch (finished).
 */
export function logSource(step: StepState): 'none' | 'follow' | 'fetch' {
  if (step.phase === 'running') return 'follow';
  if (isStepFinished(step.phase)) return 'fetch';
  return 'none';
}

/** Steps unfolded when the page opens: the running and the failed ones (as Agola's UI). */
export function initiallyUnfolded(step: StepState): boolean {
  return step.phase === 'running' || step.phase === 'failed';
}

/**
 * The step's duration in milliseconds: end - start, or now - start while it runs; `null`
 * when it has not started (or a time does not parse).
 */
export function stepDurationMs(step: StepState, now: number = Date.now()): number | null {
  if (!step.start_time) return null;
  const start = Date.parse(step.start_time);
  const end = step.end_time ? Date.parse(step.end_time) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return Math.max(0, end - start);
}

/** `850ms`, `12s`, `3m 05s`, `2h 03m`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

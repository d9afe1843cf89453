import type { Run, RunEvent } from '@agola-ts/types';

/**
 * The RunEvent announcing a run's current phase and result (Go field names, as Agola's).
 *
 * @example
 * ```ts
 * const ev = newRunEvent(run, sequence); // { Sequence, RunID, Phase, Result }
 * ```
 */
export function newRunEvent(run: Pick<Run, 'id' | 'phase' | 'result'>, sequence: string): RunEvent {
  return { Sequence: sequence, RunID: run.id, Phase: run.phase, Result: run.result };
}

/**
 * Exponential backoff for retry loops: `retry`, then doubled at each failure up to
 * `retryMax`; `reset()` after a success.
 */
export class Backoff {
  /** Failures since the last reset. */
  attempts = 0;

  constructor(private readonly intervals: { retry: number; retryMax: number }) {}

  /** The delay before the next attempt (and counts one more failure). */
  next(): number {
    const delay = Math.min(
      this.intervals.retryMax,
      this.intervals.retry * 2 ** Math.min(this.attempts, 30),
    );
    this.attempts++;
    return delay;
  }

  /** Back to the first delay. */
  reset(): void {
    this.attempts = 0;
  }
}

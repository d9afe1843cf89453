/**
 * Runs a job per key, at most one at a time per key: a request that arrives while the key's job
 * runs makes it run once more afterwards (requests coalesce). Used so every event about a run
 * schedules it promptly without two passes over the same run racing each other in one process.
 */
export class KeyedQueue {
  private readonly state = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly job: (key: string) => Promise<void>,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  /** Requests a run of the job for `key`; resolves when a run that started after the request ends. */
  request(key: string): Promise<void> {
    const cur = this.state.get(key);
    if (cur) {
      cur.again = true;
      return cur.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          try {
            await this.job(key);
          } catch (err) {
            this.onError(key, err);
          }
        } while (entry.again);
      } finally {
        this.state.delete(key);
      }
    })();
    this.state.set(key, entry);
    return entry.done;
  }

  /** Resolves when every job running now has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.state.values()].map((s) => s.done));
  }
}

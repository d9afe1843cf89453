/**
 * Serialises async sections per key inside this process: callers of one key run one after
 * the other, in call order. Used where every caller would otherwise race on one etcd key or
 * change group (the run sequence, a project's run counter): in-process they queue instead of
 * retrying against each other; other instances are still handled by the optimistic checks.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier section of `key` has ended. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

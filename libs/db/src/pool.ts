interface Waiter<T> {
  resolve(item: T): void;
  reject(err: unknown): void;
}

/**
 * A FIFO pool of items (connections), each lent to one borrower at a time. With one item it is
 * a FIFO mutex. Waiting can be cancelled through a signal.
 */
export class Pool<T> {
  private readonly idle: T[];
  private readonly waiters: Waiter<T>[] = [];

  constructor(items: readonly T[]) {
    this.idle = [...items];
  }

  /** Borrowers waiting for an item. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with an item once one is free (waiters are served in arrival order). Rejects with
   * `onAbort()`'s error when the signal fires first.
   */
  acquire(signal: AbortSignal | undefined, onAbort: () => unknown): Promise<T> {
    if (signal?.aborted) return Promise.reject(onAbort());
    const item = this.waiters.length === 0 ? this.idle.pop() : undefined;
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const abort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(onAbort());
      };
      const waiter: Waiter<T> = {
        resolve: (it) => {
          signal?.removeEventListener('abort', abort);
          resolve(it);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', abort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives an item back: to the first waiter, or to the idle list. */
  release(item: T): void {
    const next = this.waiters.shift();
    if (next) next.resolve(item);
    else this.idle.push(item);
  }

  /** Rejects every waiter (used on close). */
  rejectAll(err: () => unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(err());
  }
}

import type { EtcdClient } from './client.js';
import { EtcdMutex } from './mutex.js';
import type { EtcdSession } from './session.js';
import type { Logger } from './logger.js';

/** Options of {@link runCompactor}. */
export interface CompactorOptions {
  /** Lock held by the one instance that compacts. @default 'compactlock' */
  lockKey?: string;
  /** Time between runs. @default 600000 (10 minutes, as Agola) */
  intervalMs?: number;
  /** Stops the loop. */
  signal: AbortSignal;
  logger?: Logger;
}

/**
 * Runs until `signal` aborts: every interval, the instance that holds the compactor lock
 * compacts etcd up to the revision it saw at its previous run, so about one interval of
 * history is kept for watchers that fall behind. Errors are logged and retried at the next
 * interval.
 */
export async function runCompactor(
  client: EtcdClient,
  session: EtcdSession,
  options: CompactorOptions,
): Promise<void> {
  const { signal } = options;
  const interval = options.intervalMs ?? 600_000;
  const mutex = new EtcdMutex(client, session, options.lockKey ?? 'compactlock');
  let previous: bigint | undefined;
  while (!signal.aborted) {
    try {
      if (await mutex.tryLock()) {
        const current = await client.currentRevision();
        if (previous !== undefined && previous > 0n) {
          await client.compact(previous);
          options.logger?.debug({ revision: previous.toString() }, 'etcd compacted');
        }
        previous = current;
      } else {
        previous = undefined;
      }
    } catch (err) {
      // A failed compaction (etcd down, already compacted past it) is retried next time.
      options.logger?.warn({ err }, 'etcd compaction failed');
    }
    await sleep(interval, signal);
  }
  await mutex.unlock().catch(() => undefined);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

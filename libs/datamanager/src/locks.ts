import { newError } from '@agola-ts/errors';
import { EtcdMutex, EtcdSession, sleep, type EtcdClient } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';

/**
 * The etcd locks of one datamanager instance (Agola's: one lease-bound key per instance under
 * each lock prefix). Work under one lock key is also serialized inside the instance: the lock
 * key is per session, so two loops of one instance sharing a lock (checkpoint and checkpoint
 * clean) would otherwise both "hold" it.
 */
export class Locks {
  private session: EtcdSession | undefined;
  private readonly busy = new Set<string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly etcd: EtcdClient,
    private readonly ttlSeconds: number,
    /** Told when work under a lock starts and ends (observability, tests). */
    private readonly onWork: (lockKey: string, phase: 'start' | 'end') => void = () => undefined,
  ) {}

  /** Runs `fn` if the lock is free now; undefined when it is held (here or elsewhere). */
  async tryRun<T>(lockKey: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.busy.has(lockKey)) return undefined;
    this.busy.add(lockKey);
    try {
      const mutex = new EtcdMutex(this.etcd, await this.getSession(), lockKey);
      if (!(await mutex.tryLock())) return undefined;
      this.counts.set(lockKey, (this.counts.get(lockKey) ?? 0) + 1);
      this.onWork(lockKey, 'start');
      try {
        return await fn();
      } finally {
        this.onWork(lockKey, 'end');
        await mutex.unlock().catch(() => undefined);
      }
    } finally {
      this.busy.delete(lockKey);
    }
  }

  /** Runs `fn` under the lock, waiting for it (polling) until `signal` aborts. */
  async run<T>(lockKey: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (;;) {
      const res = await this.tryRun(lockKey, async () => ({ value: await fn() }));
      if (res) return res.value;
      if (signal.aborted) {
        throw newError('datamanager stopped', { code: DataManagerErrorCodes.NotStarted });
      }
      await sleep(20, signal);
    }
  }

  /** How many times work ran under each lock on this instance. */
  runs(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Revokes the session: every lock of this instance is released at once. */
  async close(): Promise<void> {
    await this.session?.close();
    this.session = undefined;
  }

  private async getSession(): Promise<EtcdSession> {
    if (!this.session || this.session.lost) {
      await this.session?.close().catch(() => undefined);
      this.session = await EtcdSession.create(this.etcd, { ttlSeconds: this.ttlSeconds });
    }
    return this.session;
  }
}

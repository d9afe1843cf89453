import { setTimeout as sleep } from 'node:timers/promises';
import {
  DataManagerErrorCodes,
  type Action,
  type ChangeGroupsToken,
  type DataManager,
  type FollowSink,
  type SinkTransaction,
} from '@agola-ts/datamanager';
import type { SqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import type { Db, Tx } from '@agola-ts/db';
import { badRequest, is } from '@agola-ts/errors';
import { RunserviceErrorCodes } from './codes.js';
import { queries } from './readdb.js';

/** Attempts of a run counter write that lost a change-group race. */
const MAX_ATTEMPTS = 20;
/** How long a write waits for its own wal to reach the readdb (read-your-writes). */
const APPLY_WAIT_MS = 10_000;

/**
 * The runservice's readdb and datamanager access: reads from the readdb; datamanager writes
 * validated in one readdb transaction with the change-groups token read in it.
 */
export class Store {
  private applied = '';
  private readonly counters = new Map<string, { counter: number; token: ChangeGroupsToken }>();
  private readonly waiters = new Set<{ seq: string; resolve: () => void }>();

  constructor(
    readonly db: Db,
    private readonly sqliteSink: SqliteSink,
    readonly dm: DataManager,
  ) {}

  /** The sink to follow the datamanager with: it records the last wal applied. */
  get sink(): FollowSink {
    return {
      position: () => this.sqliteSink.position(),
      transaction: async <R>(fn: (tx: SinkTransaction) => Promise<R>): Promise<R> => {
        let seq: string | undefined;
        const result = await this.sqliteSink.transaction((tx) =>
          fn({
            reset: () => tx.reset(),
            applyEntry: (e) => tx.applyEntry(e),
            applyAction: (a, s) => tx.applyAction(a, s),
            replaceChangeGroups: (g) => tx.replaceChangeGroups(g),
            setChangeGroup: (n, r) => tx.setChangeGroup(n, r),
            setPosition: async (p) => {
              seq = p.walSequence;
              await tx.setPosition(p);
            },
          }),
        );
        if (seq !== undefined) this.markApplied(seq);
        return result;
      },
    };
  }

  /** Records the position the readdb reached. */
  markApplied(seq: string): void {
    this.applied = seq;
    for (const w of this.waiters) {
      if (w.seq <= seq) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Runs a read-only query on the readdb. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.do(fn, { readonly: true });
  }

  /**
   * Writes the wal of a new run with the next counter of `groupId` (the project or user id),
   * guarded by the datamanager change group `counter-<groupId>`. The token and counter a write
   * returns are kept, so the next run of the group (callers serialise per group) writes at
   * once instead of waiting for the readdb to apply the previous one; a write of another
   * instance meanwhile makes it conflict, and it starts over from the readdb.
   *
   * @returns the counter used.
   * @throws a 400 `ERR_RUNSERVICE_CONCURRENT_UPDATE` after {@link MAX_ATTEMPTS} lost races.
   */
  async writeWithCounter(groupId: string, build: (counter: number) => Action[]): Promise<number> {
    const group = `counter-${groupId}`;
    for (let attempt = 1; ; attempt++) {
      let base = this.counters.get(groupId);
      if (!base) {
        base = await this.db.do(
          async (tx) => ({
            counter: await queries.runCounter(tx, groupId),
            token: await this.sqliteSink.changeGroupsToken(tx, [group]),
          }),
          { readonly: true },
        );
      }
      const counter = base.counter + 1;
      try {
        const res = await this.dm.write(build(counter), base.token);
        if (this.counters.size > 10_000) this.counters.clear();
        this.counters.set(groupId, { counter, token: res.changeGroupsToken });
        return counter;
      } catch (err) {
        this.counters.delete(groupId);
        if (!is(err, DataManagerErrorCodes.Concurrency)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw badRequest('the run counter was changed concurrently by other requests; retry', {
            code: RunserviceErrorCodes.ConcurrentUpdate,
            cause: err,
          });
        }
        // the winner's wal reaches this readdb soon: a little jitter spreads the retries
        await sleep(Math.random() * 10 * Math.min(attempt, 8));
      }
    }
  }

  /** Writes actions without change groups and waits for the readdb to hold them. */
  async write(actions: Action[]): Promise<void> {
    const { walSequence } = await this.dm.write(actions);
    await this.waitApplied(walSequence);
  }

  private waitApplied(seq: string): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      // the write is durable either way: past the wait, answer (the readdb catches up later)
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve();
      }, APPLY_WAIT_MS);
      this.waiters.add(waiter);
    });
  }
}

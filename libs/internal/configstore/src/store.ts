import { setTimeout as sleep } from 'node:timers/promises';
import {
  DataManagerErrorCodes,
  type Action,
  type DataManager,
  type FollowSink,
  type SinkTransaction,
} from '@agola-ts/datamanager';
import type { SqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import type { Db, Tx } from '@agola-ts/db';
import { badRequest, is } from '@agola-ts/errors';
import { ConfigstoreErrorCodes } from './codes.js';

/** What a mutation decided inside its validation transaction. */
export interface Mutation<T> {
  /** Readable change group names are hashed by the caller (see `changeGroups`). */
  groups: string[];
  actions: Action[];
  result: T;
}

/** Attempts of a mutation that lost a change-group race before it gives up with a 400. */
const MAX_ATTEMPTS = 4;
/** How long a mutation waits for its own wal to reach the readdb (read-your-writes). */
const APPLY_WAIT_MS = 10_000;

/**
 * The configstore's data access: reads from the readdb, mutations validated in one readdb
 * transaction and written with the change-groups token read in it.
 */
export class Store {
  private applied = '';
  private readonly waiters = new Set<{ seq: string; resolve: () => void }>();

  constructor(
    readonly db: Db,
    private readonly sqliteSink: SqliteSink,
    private readonly dm: DataManager,
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

  /** Records the position after a full sync at start. */
  markApplied(seq: string): void {
    this.applied = seq;
    for (const w of this.waiters) {
      if (w.seq <= seq) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Runs a read-only query on the readdb, in one snapshot. With `singleStatement` (for a
   * function that runs one statement, e.g. an entity and its place by id) it skips the
   * explicit transaction: no `BEGIN` / `COMMIT` round trips, the statement is its own snapshot.
   */
  read<T>(fn: (tx: Tx) => Promise<T>, options: { singleStatement?: boolean } = {}): Promise<T> {
    return this.db.do(fn, { readonly: true, autocommit: options.singleStatement ?? false });
  }

  /**
   * Runs a mutation: `validate` reads the readdb and decides the actions and change groups;
   * the token is read in the same transaction; then the wal is written. A write that lost a
   * change-group race is validated again (the winner's write is then usually visible and the
   * validation says what is wrong, e.g. the name is taken); after {@link MAX_ATTEMPTS} it is a
   * 400 `ERR_CONFIGSTORE_CONCURRENT_UPDATE`. Resolves once the readdb holds the write.
   */
  async mutate<T>(validate: (tx: Tx) => Promise<Mutation<T>>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { mutation, token } = await this.db.do(
        async (tx) => {
          const mutation = await validate(tx);
          const token = await this.sqliteSink.changeGroupsToken(tx, mutation.groups);
          return { mutation, token };
        },
        { readonly: true },
      );
      // nothing to change (e.g. an unchanged member role): no wal
      if (mutation.actions.length === 0) return mutation.result;
      try {
        const { walSequence } = await this.dm.write(mutation.actions, token);
        await this.waitApplied(walSequence);
        return mutation.result;
      } catch (err) {
        if (!is(err, DataManagerErrorCodes.Concurrency)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw badRequest(
            'the entities of this request were changed concurrently by another request; retry',
            { code: ConfigstoreErrorCodes.ConcurrentUpdate, cause: err },
          );
        }
        await sleep(25 * 2 ** attempt);
      }
    }
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

// The sqlite sink helper: a service's read model ("readdb") on @agola-ts/db that follows a
// datamanager. Exported as @agola-ts/datamanager/sqlite-sink (sqlite is only loaded by those
// who use it).
import type { Db, Tx } from '@agola-ts/db';
import { newError } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import type { FollowSink, SinkPosition, SinkTransaction } from './sink.js';
import type { Action, ChangeGroupsToken, DataEntry } from './types.js';

/** An action with its data, as the sink applies it (a snapshot entry arrives as a `put`). */
export type SinkAction = Action & { data: Buffer };

/** Options of {@link createSqliteSink}. */
export interface SqliteSinkOptions {
  /** The read model's database (its own tables are the service's business). */
  db: Db;
  /** Applies one action (a snapshot entry arrives as a `put`) to the service's tables. */
  apply(tx: Tx, action: SinkAction): Promise<void>;
  /**
   * Applies several actions, in order, to the service's tables: the fast path, with
   * multi-row statements (`tx.insertMany`). When given, the sink gathers the actions of a
   * transaction and calls it with up to `batchRows` at a time instead of calling `apply` for
   * each. A later action of the same entry must win (e.g. `insert or replace` in order, and
   * a delete run before the puts that follow it).
   */
  applyBatch?(tx: Tx, actions: SinkAction[]): Promise<void>;
  /** Deletes every row of the service's tables (before a full resync). */
  reset(tx: Tx): Promise<void>;
  /**
   * The most actions given to one `applyBatch` call. One batch is in sqlite while the next is
   * gathered (and, in a full sync, decoded); `tx.insertMany` splits a batch into statements of
   * 500 rows and binds the next one while sqlite runs the previous one.
   *
   * @default 2000
   */
  batchRows?: number;
  /**
   * The most actions in one sqlite transaction while following wals: a longer run of wals
   * (a follower catching up, a burst) is committed in several transactions, each ending at a
   * wal boundary with that wal as the position, so readers see the first wals without
   * waiting for the last and the write lock is released in between. The change group
   * revisions are written by the last one (until then they are older than the rows, which
   * only makes a write validated in between fail its change-group check and retry). A full
   * resync is always one transaction.
   *
   * @default 2000
   */
  maxRowsPerTransaction?: number;
  /**
   * Called after each commit with the position it recorded (also for the intermediate
   * commits of a long run of wals).
   */
  onCommit?(position: SinkPosition): void;
}

/** A {@link FollowSink} on sqlite, with what writers need from the read model. */
export interface SqliteSink extends FollowSink {
  /** Creates the sink's own tables when missing (call once before following). */
  init(): Promise<void>;
  /**
   * A change-groups token read in `tx`: use the same transaction as the reads that validate a
   * write, then pass the token to `DataManager.write`.
   */
  changeGroupsToken(tx: Tx, changeGroups: string[]): Promise<ChangeGroupsToken>;
}

/**
 * The sink's tables, named as Agola's readdb ones: `revision` (the etcd revision),
 * `committedwalsequence` (the last wal applied) and `changegrouprevision`. Revisions are
 * stored as text: they are int64.
 */
const SCHEMA = `
create table if not exists revision (revision text not null);
create table if not exists committedwalsequence (seq text not null);
create table if not exists changegrouprevision (id text primary key, revision text not null);
`;

/** A write transaction kept open across calls: `db.do` whose function waits to be told. */
interface OpenTx {
  tx: Tx;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

async function beginTx(db: Db): Promise<OpenTx> {
  let finish!: { resolve: () => void; reject: (err: unknown) => void };
  const finished = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
  let ready!: { resolve: (tx: Tx) => void; reject: (err: unknown) => void };
  const started = new Promise<Tx>((resolve, reject) => (ready = { resolve, reject }));
  let runs = 0;
  const done = db.do(async (tx) => {
    // db.do runs the function again after a busy failure: statements already applied
    // through the first run are gone, so the whole sink transaction must fail and be redone
    // (the caller already has the first run's error: this one only ends db.do's retries)
    if (++runs > 1) throw newError('the read model transaction cannot be run again');
    ready.resolve(tx);
    await finished;
  });
  done.catch((err: unknown) => ready.reject(err));
  const tx = await started;
  return {
    tx,
    commit: async () => {
      finish.resolve();
      await done;
    },
    rollback: async () => {
      finish.reject(new Error('rolled back'));
      await done.catch(() => undefined);
    },
  };
}

/**
 * Creates a sqlite sink. A sink transaction is one `db.do` write transaction (or, for a long
 * run of wals, a few, each ending at a wal boundary): the service's rows, the change group
 * revisions and the position always change together. Actions are applied in batches when
 * `applyBatch` is given.
 *
 * @example
 * ```ts
 * const sink = createSqliteSink({
 *   db,
 *   reset: (tx) => tx.execScript('delete from user; delete from org;'),
 *   apply: async (tx, a) => {
 *     if (a.actionType === 'delete') await tx.exec(`delete from ${a.dataType} where id = ?`, [a.id]);
 *     else await tx.exec(`insert or replace into ${a.dataType} (id, data) values (?, ?)`, [a.id, a.data]);
 *   },
 * });
 * await sink.init();
 * void dm.follow(sink, { signal });
 * ```
 */
export function createSqliteSink(options: SqliteSinkOptions): SqliteSink {
  const { db } = options;
  const batchRows = options.batchRows ?? 2000;
  const maxRows = options.maxRowsPerTransaction ?? 2000;
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw newError('batchRows must be an integer >= 1', {
      code: DataManagerErrorCodes.InvalidOptions,
    });
  }
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw newError('maxRowsPerTransaction must be an integer >= 1', {
      code: DataManagerErrorCodes.InvalidOptions,
    });
  }

  const setWalSequence = async (tx: Tx, walSequence: string) => {
    const { changes } = await tx.exec('update committedwalsequence set seq = ?', [walSequence], {
      name: 'set wal sequence',
    });
    if (changes === 0) {
      await tx.exec('insert into committedwalsequence (seq) values (?)', [walSequence], {
        name: 'set wal sequence',
      });
    }
  };
  const setRevision = async (tx: Tx, revision: bigint) => {
    const { changes } = await tx.exec('update revision set revision = ?', [revision.toString()], {
      name: 'set revision',
    });
    if (changes === 0) {
      await tx.exec('insert into revision (revision) values (?)', [revision.toString()], {
        name: 'set revision',
      });
    }
  };

  /** One sink transaction: the sqlite transactions it opens, the actions it gathers. */
  const run = async <T>(fn: (tx: SinkTransaction) => Promise<T>): Promise<T> => {
    let open: OpenTx | undefined;
    let buffer: SinkAction[] = [];
    let rows = 0; // actions in the open sqlite transaction
    let didReset = false;
    let currentWal: string | undefined;
    let recorded: SinkPosition | undefined;

    // one batch may be in sqlite (on the thread pool) while the next one is gathered
    let inflight: Promise<void> | undefined;

    const current = async (): Promise<Tx> => (open ??= await beginTx(db)).tx;
    const drain = async (): Promise<void> => {
      const p = inflight;
      inflight = undefined;
      if (p) await p;
    };
    /** Applies the gathered actions; with `wait: false` returns once they are started. */
    const flush = async (wait = true): Promise<void> => {
      await drain();
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      const tx = await current();
      const apply = options.applyBatch;
      if (!apply) throw newError('actions were gathered without applyBatch');
      const p = apply(tx, batch);
      if (wait) return p;
      inflight = p;
      p.catch(() => undefined); // awaited (and rethrown) by the next drain
    };
    const add = async (action: SinkAction): Promise<void> => {
      if (!options.applyBatch) {
        await options.apply(await current(), action);
      } else {
        buffer.push(action);
        if (buffer.length >= batchRows) await flush(false);
      }
      rows++;
    };
    const commit = async (position: SinkPosition | undefined): Promise<void> => {
      await flush();
      if (!open) return;
      const finishing = open;
      open = undefined;
      rows = 0;
      await finishing.commit();
      if (position) options.onCommit?.(position);
    };

    const sinkTx: SinkTransaction = {
      async reset() {
        await drain();
        buffer = [];
        didReset = true;
        const tx = await current();
        await options.reset(tx);
        await tx.exec('delete from changegrouprevision', [], { name: 'reset change groups' });
      },
      async applyEntry(entry) {
        await add({ actionType: 'put', dataType: entry.dataType, id: entry.id, data: entry.data });
      },
      // with applyBatch the entries are gathered anyway (and a failure is a batch's): a run
      // of them is taken in one call; without it each is applied, and reported, on its own
      ...(options.applyBatch
        ? {
            async applyEntries(entries: readonly DataEntry[]) {
              for (const entry of entries) {
                const { dataType, id, data } = entry;
                buffer.push({ actionType: 'put', dataType, id, data });
                rows++;
                if (buffer.length >= batchRows) await flush(false);
              }
            },
          }
        : {}),
      async applyAction(action, walSequence) {
        if (walSequence !== currentWal) {
          // the previous wal is complete: a long run is committed here, at its boundary
          if (currentWal !== undefined && !didReset && rows >= maxRows) {
            await flush();
            const tx = await current();
            await setWalSequence(tx, currentWal);
            const revision = recorded?.revision ?? (await storedRevision(tx));
            await commit({ walSequence: currentWal, revision });
          }
          currentWal = walSequence;
        }
        await add(action);
      },
      async replaceChangeGroups(groups) {
        await flush();
        const tx = await current();
        await tx.exec('delete from changegrouprevision', [], { name: 'reset change groups' });
        await tx.insertMany(
          'insert into changegrouprevision (id, revision)',
          [...groups].map(([name, revision]) => [name, revision.toString()]),
          { name: 'insert change groups' },
        );
      },
      async setChangeGroup(name, revision) {
        await flush();
        const tx = await current();
        if (revision === undefined) {
          await tx.exec('delete from changegrouprevision where id = ?', [name], {
            name: 'delete change group',
          });
        } else {
          await tx.exec(
            'insert or replace into changegrouprevision (id, revision) values (?, ?)',
            [name, revision.toString()],
            { name: 'upsert change group' },
          );
        }
      },
      async setPosition(position) {
        // the last rows, the revision and the wal sequence touch different tables: one round
        // trip to sqlite for the three instead of three in turn
        await flush(false);
        const tx = await current();
        await Promise.all([
          drain(),
          setRevision(tx, position.revision),
          setWalSequence(tx, position.walSequence),
        ]);
        recorded = position;
      },
    };

    const abandon = async (): Promise<void> => {
      await inflight?.catch(() => undefined);
      inflight = undefined;
      await open?.rollback();
    };
    let result: T;
    try {
      result = await fn(sinkTx);
    } catch (err) {
      await abandon();
      throw err;
    }
    try {
      await commit(recorded);
    } catch (err) {
      await abandon();
      throw err;
    }
    return result;
  };

  return {
    async init() {
      await db.do((tx) => tx.execScript(SCHEMA));
    },
    async position(): Promise<SinkPosition | undefined> {
      return db.do(
        async (tx) => {
          const seq = await tx.get<{ seq: string }>('select seq from committedwalsequence', [], {
            name: 'get wal sequence',
          });
          const rev = await tx.get<{ revision: string }>('select revision from revision', [], {
            name: 'get revision',
          });
          if (!seq) return undefined;
          return { walSequence: seq.seq, revision: BigInt(rev?.revision ?? '0') };
        },
        { readonly: true },
      );
    },
    transaction: run,
    async changeGroupsToken(tx: Tx, changeGroups: string[]): Promise<ChangeGroupsToken> {
      const rev = await tx.get<{ revision: string }>('select revision from revision', [], {
        name: 'get revision',
      });
      const changeGroupsRevisions: Record<string, bigint> = {};
      for (const name of changeGroups) {
        const row = await tx.get<{ revision: string }>(
          'select revision from changegrouprevision where id = ?',
          [name],
          {
            name: 'get change group',
          },
        );
        changeGroupsRevisions[name] = BigInt(row?.revision ?? '0');
      }
      return { curRevision: BigInt(rev?.revision ?? '0'), changeGroupsRevisions };
    },
  };
}

/** The etcd revision recorded by the last committed position (0 for none). */
async function storedRevision(tx: Tx): Promise<bigint> {
  const row = await tx.get<{ revision: string }>('select revision from revision', [], {
    name: 'get revision',
  });
  return BigInt(row?.revision ?? '0');
}

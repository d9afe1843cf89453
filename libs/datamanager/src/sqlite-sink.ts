// The sqlite sink helper: a service's read model ("readdb") on @agola-ts/db that follows a
// datamanager. Exported as @agola-ts/datamanager/sqlite-sink (sqlite is only loaded by those
// who use it).
import type { Db, Tx } from '@agola-ts/db';
import type { FollowSink, SinkPosition, SinkTransaction } from './sink.js';
import type { Action, ChangeGroupsToken } from './types.js';

/** Options of {@link createSqliteSink}. */
export interface SqliteSinkOptions {
  /** The read model's database (its own tables are the service's business). */
  db: Db;
  /** Applies one action (a snapshot entry arrives as a `put`) to the service's tables. */
  apply(tx: Tx, action: Action & { data: Buffer }): Promise<void>;
  /** Deletes every row of the service's tables (before a full resync). */
  reset(tx: Tx): Promise<void>;
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

/**
 * Creates a sqlite sink: each sink transaction is one `db.do` write transaction, so the
 * service's rows, the change group revisions and the position always change together.
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
  const txOf = (tx: Tx): SinkTransaction => ({
    async reset() {
      await options.reset(tx);
      await tx.exec('delete from changegrouprevision', [], { name: 'reset change groups' });
    },
    async applyEntry(entry) {
      await options.apply(tx, {
        actionType: 'put',
        dataType: entry.dataType,
        id: entry.id,
        data: entry.data,
      });
    },
    async applyAction(action) {
      await options.apply(tx, action);
    },
    async replaceChangeGroups(groups) {
      await tx.exec('delete from changegrouprevision', [], { name: 'reset change groups' });
      for (const [name, revision] of groups) {
        await tx.exec(
          'insert into changegrouprevision (id, revision) values (?, ?)',
          [name, revision.toString()],
          {
            name: 'insert change group',
          },
        );
      }
    },
    async setChangeGroup(name, revision) {
      if (revision === undefined) {
        await tx.exec('delete from changegrouprevision where id = ?', [name], {
          name: 'delete change group',
        });
      } else {
        await tx.exec(
          'insert or replace into changegrouprevision (id, revision) values (?, ?)',
          [name, revision.toString()],
          {
            name: 'upsert change group',
          },
        );
      }
    },
    async setPosition(position) {
      await tx.exec('delete from revision', [], { name: 'reset revision' });
      await tx.exec('insert into revision (revision) values (?)', [position.revision.toString()], {
        name: 'set revision',
      });
      await tx.exec('delete from committedwalsequence', [], { name: 'reset wal sequence' });
      await tx.exec('insert into committedwalsequence (seq) values (?)', [position.walSequence], {
        name: 'set wal sequence',
      });
    },
  });

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
    transaction<T>(fn: (tx: SinkTransaction) => Promise<T>): Promise<T> {
      return db.do((tx) => fn(txOf(tx)));
    },
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

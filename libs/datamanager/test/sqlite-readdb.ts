import { openDb, type Db, type OpenDbOptions, type Tx } from '@agola-ts/db';
import {
  createSqliteSink,
  type SinkAction,
  type SqliteSink,
  type SqliteSinkOptions,
} from '../src/sqlite-sink.js';

/** A test read model on sqlite: one table of every entry, as a service would have per type. */
export interface TestReadDb {
  db: Db;
  sink: SqliteSink;
  get(dataType: string, id: string): Promise<Buffer | undefined>;
  all(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export const READDB_SCHEMA =
  'create table if not exists entries (datatype text not null, id text not null, data blob not null, primary key (datatype, id));';

/** Applies actions in order: runs of puts as multi-row inserts, deletes one by one. */
async function applyBatch(tx: Tx, actions: SinkAction[]): Promise<void> {
  let puts: Array<[string, string, Buffer]> = [];
  const flushPuts = async () => {
    if (puts.length === 0) return;
    await tx.insertMany('insert or replace into entries (datatype, id, data)', puts);
    puts = [];
  };
  for (const a of actions) {
    if (a.actionType === 'delete') {
      await flushPuts();
      await tx.exec('delete from entries where datatype = ? and id = ?', [a.dataType, a.id]);
    } else {
      puts.push([a.dataType, a.id, a.data]);
    }
  }
  await flushPuts();
}

/** The sink's options besides the database and how to apply actions. */
export type TestSinkOptions = Pick<
  SqliteSinkOptions,
  'batchRows' | 'maxRowsPerTransaction' | 'onCommit'
> & {
  /** Apply actions one by one (`apply`) instead of in batches (`applyBatch`). */
  oneByOne?: boolean;
  /** Called with each batch `applyBatch` receives. */
  onBatch?: (actions: SinkAction[]) => void;
};

export async function openTestReadDb(
  path: string,
  options: OpenDbOptions = {},
  sinkOptions: TestSinkOptions = {},
): Promise<TestReadDb> {
  const db = await openDb(path, options);
  await db.do((tx) => tx.execScript(READDB_SCHEMA));
  const { oneByOne, onBatch, ...rest } = sinkOptions;
  const sink = createSqliteSink({
    db,
    ...rest,
    ...(oneByOne
      ? {}
      : {
          applyBatch: (tx: Tx, actions: SinkAction[]) => {
            onBatch?.(actions);
            return applyBatch(tx, actions);
          },
        }),
    reset: async (tx) => void (await tx.exec('delete from entries')),
    apply: async (tx, a) => {
      if (a.actionType === 'delete') {
        await tx.exec('delete from entries where datatype = ? and id = ?', [a.dataType, a.id]);
      } else {
        await tx.exec('insert or replace into entries (datatype, id, data) values (?, ?, ?)', [
          a.dataType,
          a.id,
          a.data,
        ]);
      }
    },
  });
  await sink.init();
  return {
    db,
    sink,
    get: (dataType, id) =>
      db.do(
        async (tx) =>
          (
            await tx.get<{ data: Buffer }>(
              'select data from entries where datatype = ? and id = ?',
              [dataType, id],
            )
          )?.data,
        { readonly: true },
      ),
    all: () =>
      db.do(
        async (tx) =>
          new Map(
            (
              await tx.all<{ datatype: string; id: string; data: Buffer }>('select * from entries')
            ).map((r) => [`${r.datatype}/${r.id}`, Buffer.from(r.data).toString()]),
          ),
        { readonly: true },
      ),
    close: () => db.close(),
  };
}

import { openDb, type Db, type OpenDbOptions } from '@agola-ts/db';
import { createSqliteSink, type SqliteSink } from '../src/sqlite-sink.js';

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

export async function openTestReadDb(
  path: string,
  options: OpenDbOptions = {},
): Promise<TestReadDb> {
  const db = await openDb(path, options);
  await db.do((tx) => tx.execScript(READDB_SCHEMA));
  const sink = createSqliteSink({
    db,
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

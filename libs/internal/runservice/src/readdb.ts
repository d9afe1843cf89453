import type { Action, SinkTransaction } from '@agola-ts/datamanager';
import type { SqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { migrate, type Db, type Tx } from '@agola-ts/db';
import type { Run, RunConfig, RunPhase, RunResult } from '@agola-ts/types';

/** The data types of the runservice's datamanager, in Agola's export order. */
export const DATA_TYPES = ['run', 'runconfig', 'runcounter'] as const;

/**
 * The object-storage half of Agola's runservice readdb (reference §5.2): archived runs, run
 * configs and the run counters. Active runs are read from etcd directly (they are few, and
 * etcd is their source of truth), so the etcd half of Agola's readdb is not mirrored here.
 * `grouppath` always ends with `/`.
 */
const SCHEMA_V1 = `
create table run_ost (id text primary key, grouppath text not null, counter integer not null, phase text not null, result text not null);
create index run_ost_grouppath on run_ost (grouppath, counter);
create table rundata_ost (id text primary key, data text not null);
create table runconfig_ost (id text primary key, data text not null);
create table runcounter_ost (groupid text primary key, counter integer not null);
`;

/**
 * Runs by counter within a group prefix (the gateway's `GET /projects/{ref}/runs/{n}`): the
 * counter first, then the group range, so the lookup is a seek however many runs there are.
 */
const SCHEMA_V2 = `
create index run_ost_counter on run_ost (counter, grouppath);
`;

const TABLES = ['run_ost', 'rundata_ost', 'runconfig_ost', 'runcounter_ost'];

/** Creates or upgrades the readdb tables. */
export async function migrateReadDb(db: Db): Promise<void> {
  await migrate(db, [
    { version: 1, up: SCHEMA_V1, description: 'runs, run configs, counters' },
    { version: 2, up: SCHEMA_V2, description: 'runs by counter' },
  ]);
}

/** Empties every table (before a full resync). */
export async function resetReadDb(tx: Tx): Promise<void> {
  for (const t of TABLES) await tx.exec(`delete from ${t}`, [], { name: `reset ${t}` });
}

/** `grouppath` of a run group: the group with a trailing `/`. */
export function groupPath(group: string): string {
  return group.endsWith('/') ? group : `${group}/`;
}

/** Applies one datamanager action to the tables. */
export async function applyAction(tx: Tx, a: Action & { data: Buffer }): Promise<void> {
  const put = a.actionType === 'put';
  const json = put ? a.data.toString('utf8') : '';
  switch (a.dataType) {
    case 'run': {
      await tx.exec('delete from run_ost where id = ?', [a.id]);
      await tx.exec('delete from rundata_ost where id = ?', [a.id]);
      if (!put) return;
      const run = JSON.parse(json) as Run;
      await tx.exec(
        'insert into run_ost (id, grouppath, counter, phase, result) values (?, ?, ?, ?, ?)',
        [a.id, groupPath(run.group), run.counter, run.phase, run.result],
      );
      await tx.exec('insert into rundata_ost (id, data) values (?, ?)', [a.id, json]);
      return;
    }
    case 'runconfig': {
      await tx.exec('delete from runconfig_ost where id = ?', [a.id]);
      if (!put) return;
      await tx.exec('insert into runconfig_ost (id, data) values (?, ?)', [a.id, json]);
      return;
    }
    case 'runcounter': {
      await tx.exec('delete from runcounter_ost where groupid = ?', [a.id]);
      if (!put) return;
      const counter = JSON.parse(json) as number;
      await tx.exec('insert into runcounter_ost (groupid, counter) values (?, ?)', [a.id, counter]);
      return;
    }
    default:
      return;
  }
}

/** A put decoded: a run's row values and JSON, a counter, or a run config's JSON. */
type Decoded =
  | { kind: 'run'; json: string; row: (string | number)[] }
  | { kind: 'runcounter'; counter: number }
  | { kind: 'other' };

/** Puts decoded by {@link decodingSink} before they were gathered, by their data buffer. */
const decodedPuts = new WeakMap<Buffer, Decoded>();

/**
 * Decodes a put of `dataType` (`id` is the entry's); throws where {@link applyAction} would:
 * unreadable JSON, a run without a group, a missing value of a `not null` column.
 */
function decode(dataType: string, id: string, data: Buffer): Decoded {
  switch (dataType) {
    case 'run': {
      const json = data.toString('utf8');
      const run = JSON.parse(json) as Run;
      const row = [id, groupPath(run.group), run.counter, run.phase, run.result];
      if (row.some((v) => v === undefined || v === null)) {
        throw new Error(`run ${id}: a readdb column has no value`);
      }
      return { kind: 'run', json, row };
    }
    case 'runcounter': {
      const counter = JSON.parse(data.toString('utf8')) as number;
      if (counter === null) throw new Error(`run counter ${id}: no value`);
      return { kind: 'runcounter', counter };
    }
    default:
      return { kind: 'other' };
  }
}

function decodePut(a: Action & { data: Buffer }): Decoded {
  const d = decodedPuts.get(a.data);
  if (d) {
    decodedPuts.delete(a.data);
    return d;
  }
  return decode(a.dataType, a.id, a.data);
}

/**
 * Wraps the sqlite sink given {@link applyActions}: each put and snapshot entry is decoded as
 * it arrives, so an unreadable one fails in the sink's `applyAction` / `applyEntry` call and
 * the follower names it (`ERR_DATAMANAGER_SINK_APPLY`), as when actions are applied one at a
 * time; the batch reuses the decoding.
 */
export function decodingSink(sink: SqliteSink): SqliteSink {
  return {
    ...sink,
    transaction: (fn) =>
      sink.transaction((tx) => {
        const wrapped: SinkTransaction = {
          reset: () => tx.reset(),
          applyEntry: async (entry) => {
            decodedPuts.set(entry.data, decode(entry.dataType, entry.id, entry.data));
            await tx.applyEntry(entry);
          },
          applyAction: async (action, walSequence) => {
            if (action.actionType === 'put') {
              decodedPuts.set(action.data, decode(action.dataType, action.id, action.data));
            }
            await tx.applyAction(action, walSequence);
          },
          replaceChangeGroups: (g) => tx.replaceChangeGroups(g),
          setChangeGroup: (n, r) => tx.setChangeGroup(n, r),
          setPosition: (p) => tx.setPosition(p),
        };
        return fn(wrapped);
      }),
  };
}

/** Ids per `delete ... where id in (...)` statement (well under sqlite's variable limit). */
const IDS_PER_DELETE = 500;

async function deleteIn(tx: Tx, table: string, column: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += IDS_PER_DELETE) {
    const chunk = ids.slice(i, i + IDS_PER_DELETE);
    await tx.exec(
      `delete from ${table} where ${column} in (${chunk.map(() => '?').join(',')})`,
      chunk,
      { name: `batch delete ${table}` },
    );
  }
}

/**
 * Cuts a batch into runs in which no entry (data type and id) appears twice: within such a
 * run, deleting every touched entry's rows first and then inserting the puts gives the rows
 * that applying the actions one at a time gives.
 */
export function distinctRuns<A extends Action>(actions: readonly A[]): A[][] {
  const runs: A[][] = [];
  let current: A[] = [];
  let seen = new Set<string>();
  for (const a of actions) {
    const key = `${a.dataType}\u0000${a.id}`;
    if (seen.has(key)) {
      runs.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(key);
    current.push(a);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/**
 * Applies several datamanager actions, in order: the same rows as {@link applyAction} for
 * each in turn, with one multi-row delete and one multi-row insert per table (`tx.insertMany`)
 * for each run of distinct entries (see {@link distinctRuns}). The sqlite sink's fast path.
 */
export async function applyActions(
  tx: Tx,
  actions: readonly (Action & { data: Buffer })[],
): Promise<void> {
  for (const run of distinctRuns(actions)) await applyDistinct(tx, run);
}

async function applyDistinct(tx: Tx, actions: readonly (Action & { data: Buffer })[]) {
  const ids = { run: [] as string[], runconfig: [] as string[], runcounter: [] as string[] };
  const runs: (string | number)[][] = [];
  const runData: string[][] = [];
  const configs: string[][] = [];
  const counters: (string | number)[][] = [];
  for (const a of actions) {
    const put = a.actionType === 'put';
    switch (a.dataType) {
      case 'run': {
        ids.run.push(a.id);
        if (!put) break;
        const d = decodePut(a);
        if (d.kind !== 'run') break;
        runs.push(d.row);
        runData.push([a.id, d.json]);
        break;
      }
      case 'runconfig':
        ids.runconfig.push(a.id);
        if (put) configs.push([a.id, a.data.toString('utf8')]);
        break;
      case 'runcounter': {
        ids.runcounter.push(a.id);
        if (!put) break;
        const d = decodePut(a);
        if (d.kind === 'runcounter') counters.push([a.id, d.counter]);
        break;
      }
      default:
        break;
    }
  }
  await deleteIn(tx, 'run_ost', 'id', ids.run);
  await deleteIn(tx, 'rundata_ost', 'id', ids.run);
  await deleteIn(tx, 'runconfig_ost', 'id', ids.runconfig);
  await deleteIn(tx, 'runcounter_ost', 'groupid', ids.runcounter);
  const opts = (table: string) => ({ name: `batch insert ${table}` });
  await tx.insertMany(
    'insert into run_ost (id, grouppath, counter, phase, result)',
    runs,
    opts('run_ost'),
  );
  await tx.insertMany('insert into rundata_ost (id, data)', runData, opts('rundata_ost'));
  await tx.insertMany('insert into runconfig_ost (id, data)', configs, opts('runconfig_ost'));
  await tx.insertMany(
    'insert into runcounter_ost (groupid, counter)',
    counters,
    opts('runcounter_ost'),
  );
}

/** Filters of a run listing. */
export interface RunsQuery {
  phases: RunPhase[];
  results: RunResult[];
  /** Group prefixes (a run's `grouppath` starts with `<group>/`, case-sensitive). */
  groups: string[];
  /** Only runs after (asc) or before (desc) this id. */
  startRunId?: string | undefined;
  /** Only runs after (asc) or before (desc) this counter (with one group). */
  startCounter?: number | undefined;
  limit: number;
  asc: boolean;
}

/**
 * The `grouppath` range of a group prefix: `[<group>/, <group>0)` (`0` follows `/`), so
 * sqlite seeks the index instead of scanning every run as a `LIKE` does (sqlite's LIKE is
 * case-insensitive: it cannot use a binary index). The match is case-sensitive.
 */
function groupRange(group: string): [string, string] {
  const from = groupPath(group);
  return [from, `${from.slice(0, -1)}0`];
}

/** The readdb queries of the runservice. */
export const queries = {
  archivedRun: async (tx: Tx, id: string): Promise<Run | undefined> => {
    const row = await tx.get<{ data: string }>('select data from rundata_ost where id = ?', [id]);
    return row ? (JSON.parse(row.data) as Run) : undefined;
  },
  runConfig: async (tx: Tx, id: string): Promise<RunConfig | undefined> => {
    const row = await tx.get<{ data: string }>('select data from runconfig_ost where id = ?', [id]);
    return row ? (JSON.parse(row.data) as RunConfig) : undefined;
  },
  runCounter: async (tx: Tx, groupId: string): Promise<number> => {
    const row = await tx.get<{ counter: number }>(
      'select counter from runcounter_ost where groupid = ?',
      [groupId],
    );
    return row?.counter ?? 0;
  },
  archivedRunByCounter: async (
    tx: Tx,
    group: string,
    counter: number,
  ): Promise<Run | undefined> => {
    const row = await tx.get<{ data: string }>(
      'select d.data from run_ost r join rundata_ost d on d.id = r.id where r.counter = ? and r.grouppath >= ? and r.grouppath < ? order by r.id desc limit 1',
      [counter, ...groupRange(group)],
      { name: 'run by group and counter' },
    );
    return row ? (JSON.parse(row.data) as Run) : undefined;
  },
  archivedRuns: async (tx: Tx, q: RunsQuery): Promise<Run[]> => {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.phases.length > 0) {
      where.push(`r.phase in (${q.phases.map(() => '?').join(',')})`);
      params.push(...q.phases);
    }
    if (q.results.length > 0) {
      where.push(`r.result in (${q.results.map(() => '?').join(',')})`);
      params.push(...q.results);
    }
    if (q.groups.length > 0) {
      where.push(`(${q.groups.map(() => '(r.grouppath >= ? and r.grouppath < ?)').join(' or ')})`);
      params.push(...q.groups.flatMap(groupRange));
    }
    if (q.startRunId !== undefined) {
      where.push(`r.id ${q.asc ? '>' : '<'} ?`);
      params.push(q.startRunId);
    }
    if (q.startCounter !== undefined) {
      where.push(`r.counter ${q.asc ? '>' : '<'} ?`);
      params.push(q.startCounter);
    }
    const order = q.startCounter !== undefined || q.groups.length === 1 ? 'r.counter' : 'r.id';
    params.push(q.limit);
    const rows = await tx.all<{ data: string }>(
      `select d.data from run_ost r join rundata_ost d on d.id = r.id ${
        where.length > 0 ? `where ${where.join(' and ')}` : ''
      } order by ${order} ${q.asc ? 'asc' : 'desc'}, r.id ${q.asc ? 'asc' : 'desc'} limit ?`,
      params,
    );
    return rows.map((r) => JSON.parse(r.data) as Run);
  },
};

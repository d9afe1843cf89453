// Readdb rebuild benchmark (npm run bench:readdb): a full sync of the configstore's readdb from
// a datamanager holding BENCH_ENTRIES entries (half users with a token and a linked account,
// half projects), through the sqlite sink
// - one action at a time (`applyAction`, the path before the batch apply),
// - in batches (`applyActions`, multi-row deletes and inserts: what the configstore uses),
// next to the floor: the same rows, already decoded, inserted into the same tables with
// `tx.insertMany` (500 rows per statement) in one transaction, no feed. The sides interleaved
// round by round (order rotated), medians; the load average printed (a shared machine).
// Own etcd and posix storage; every sqlite file has the configstore's settings (WAL,
// synchronous=NORMAL).
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager, type DataManager } from '@agola-ts/datamanager';
import { createSqliteSink } from '@agola-ts/datamanager/sqlite-sink';
import { openDb } from '@agola-ts/db';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage } from '@agola-ts/ost';
import { startEtcd } from '@agola-ts/testkit';
import {
  DATA_TYPES,
  applyAction,
  applyActions,
  decodingSink,
  migrateReadDb,
  resetReadDb,
} from '../src/readdb.js';

const HOUR = 3_600_000;
const ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 50_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const fmt = (n: number, d = 2) => n.toFixed(d);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const load = () =>
  loadavg()
    .map((l) => fmt(l, 1))
    .join(' ');

interface Entity {
  dataType: 'user' | 'project';
  id: string;
  json: string;
}

/** Users (a token, a linked account) and projects, about 300 bytes of JSON each. */
function entities(): Entity[] {
  return Array.from({ length: ENTRIES }, (_, i) => {
    const n = String(i).padStart(7, '0');
    if (i % 2 === 0) {
      const user = {
        id: `u${n}`,
        name: `user-${n}`,
        secret: 'x'.repeat(40),
        tokens: { default: `token-${n}-${'t'.repeat(24)}` },
        linked_accounts: {
          [`la${n}`]: { id: `la${n}`, remote_user_id: `ru${n}`, remote_source_id: 'rs1' },
        },
      };
      return { dataType: 'user', id: user.id, json: JSON.stringify(user) };
    }
    const project = {
      id: `p${n}`,
      name: `project-${n}`,
      parent: { type: 'projectgroup', id: `pg${String(i % 100)}` },
      secret: 's'.repeat(64),
      visibility: 'public',
      remote_repository_config_type: 'remotesource',
      remote_source_id: 'rs1',
      repository_path: `org/project-${n}`,
    };
    return { dataType: 'project', id: project.id, json: JSON.stringify(project) };
  });
}

/** Writes the entities (1000 per wal) and checkpoints them into data files. */
async function fill(dm: DataManager, all: Entity[]): Promise<void> {
  const t = performance.now();
  for (let i = 0; i < all.length; i += 1000) {
    await dm.write(
      all.slice(i, i + 1000).map((e) => ({
        actionType: 'put' as const,
        dataType: e.dataType,
        id: e.id,
        data: e.json,
      })),
    );
  }
  await dm.checkpoint({ force: true });
  await dm.clean();
  console.log(
    `loaded and checkpointed ${all.length} entries in ${fmt((performance.now() - t) / 1000)} s`,
  );
}

/** A full sync into a new readdb file; returns its time and checks the row counts. */
async function rebuild(dm: DataManager, path: string, batch: boolean): Promise<number> {
  const db = await openDb(path, { synchronous: 'normal' });
  try {
    await migrateReadDb(db);
    const sqliteSink = createSqliteSink({
      db,
      apply: applyAction,
      ...(batch ? { applyBatch: applyActions } : {}),
      reset: resetReadDb,
    });
    await sqliteSink.init();
    // the batch side as the service runs it: puts decoded as they arrive (decodingSink)
    const sink = batch ? decodingSink(sqliteSink) : sqliteSink;
    const ac = new AbortController();
    const t = performance.now();
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const following = dm.follow(sink, { signal: ac.signal, onCaughtUp: () => caughtUp() });
    await ready;
    const ms = performance.now() - t;
    ac.abort();
    await following;
    await check(db, path);
    return ms;
  } finally {
    await db.close();
  }
}

async function check(db: Awaited<ReturnType<typeof openDb>>, what: string): Promise<void> {
  const counts = await db.do(
    async (tx) => {
      const n = async (t: string) =>
        (await tx.get<{ n: number }>(`select count(*) as n from ${t}`))?.n ?? 0;
      return [
        await n('user'),
        await n('user_token'),
        await n('linkedaccount_user'),
        await n('project'),
      ];
    },
    { readonly: true },
  );
  const users = Math.ceil(ENTRIES / 2);
  const want = [users, users, users, ENTRIES - users];
  if (counts.join() !== want.join())
    throw new Error(`${what}: rows ${counts.join()}, want ${want.join()}`);
}

/** The fields of a bench user the floor reads. */
interface BenchUser {
  name: string;
  tokens: { default: string };
}

/** The floor: the decoded rows inserted with tx.insertMany, one transaction. */
async function floor(path: string, all: Entity[]): Promise<number> {
  const db = await openDb(path, { synchronous: 'normal' });
  try {
    await migrateReadDb(db);
    const t = performance.now();
    await db.do(async (tx) => {
      const users = all.filter((e) => e.dataType === 'user');
      const projects = all.filter((e) => e.dataType === 'project');
      const parsed = users.map((e) => ({ e, u: JSON.parse(e.json) as BenchUser }));
      await tx.insertMany(
        'insert or replace into user (id, name, data)',
        parsed.map(({ e, u }) => [e.id, u.name, e.json]),
      );
      await tx.insertMany(
        'insert or replace into user_token (tokenvalue, userid, tokenname)',
        parsed.map(({ e, u }) => [u.tokens.default, e.id, 'default']),
      );
      await tx.insertMany(
        'insert or replace into linkedaccount_user (id, remotesourceid, userid, remoteuserid)',
        parsed.map(({ e }) => [`la${e.id.slice(1)}`, 'rs1', e.id, `ru${e.id.slice(1)}`]),
      );
      await tx.insertMany(
        'insert or replace into project (id, name, parentid, data)',
        projects.map((e) => {
          const p = JSON.parse(e.json) as { name: string; parent: { id: string } };
          return [e.id, p.name, p.parent.id, e.json];
        }),
      );
    });
    const ms = performance.now() - t;
    await check(db, 'floor');
    return ms;
  } finally {
    await db.close();
  }
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'cs-readdb-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const dm = createDataManager({
    etcd: etcd.withPrefix('data/'),
    ost: createPosixStorage({ path: dir }),
    basePath: 'configdata',
    dataTypes: DATA_TYPES,
    etcdWalsKeepNum: 1,
    intervals: {
      sync: 1000,
      checkpoint: HOUR,
      checkpointClean: HOUR,
      etcdWalCleaner: HOUR,
      storageWalCleaner: HOUR,
      compactChangeGroups: 1000,
      ping: 1000,
    },
  });
  try {
    console.log('# configstore readdb rebuild benchmark (etcd + posix storage + sqlite)');
    console.log(`load average before: ${load()}`);
    await dm.start();
    const all = entities();
    await fill(dm, all);
    const sides: Array<[string, (r: number) => Promise<number>]> = [
      ['per-action', (r) => rebuild(dm, join(dir, `action-${r}.sqlite`), false)],
      ['batch', (r) => rebuild(dm, join(dir, `batch-${r}.sqlite`), true)],
      ['insertMany floor', (r) => floor(join(dir, `floor-${r}.sqlite`), all)],
    ];
    const times = new Map<string, number[]>(sides.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const line: string[] = [];
      for (let i = 0; i < sides.length; i++) {
        const [name, run] = sides[(i + r) % sides.length]!;
        const ms = await run(r);
        times.get(name)!.push(ms);
        line.push(`${name} ${fmt(ms / 1000)} s`);
      }
      console.log(`round ${r + 1}: ${line.join(', ')} (load ${load()})`);
    }
    const m = (n: string) => median(times.get(n)!);
    console.log(`\nfull readdb rebuild of ${ENTRIES} entries, medians of ${ROUNDS} rounds:`);
    for (const [name] of sides)
      console.log(`${name.padEnd(17)} ${fmt(m(name) / 1000).padStart(7)} s`);
    console.log(
      `batch = ${fmt(m('per-action') / m('batch'))}x faster than per-action; batch = ${fmt(m('batch') / m('insertMany floor'))}x the insertMany floor, per-action = ${fmt(m('per-action') / m('insertMany floor'))}x`,
    );
    console.log(`load average after: ${load()}`);
  } finally {
    await dm.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

// Run-by-group benchmark (npm run bench:by-group): `GET /runs/group/{group}/{counter}` (what the
// gateway's `GET /projects/{ref}/runs/{n}` calls) with 32 keep-alive connections from autocannon
// in a SEPARATE process, on a readdb holding BENCH_RUNS archived runs (20,000 by default) in 100
// projects; and the readdb query alone (32 concurrent reads on the service's readdb file), the
// current query next to the one it replaced (a `grouppath LIKE ? ESCAPE` that scanned every
// run: sqlite's LIKE is case-insensitive, so it cannot use the index) with its old plan,
// interleaved, medians.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataManager } from '@agola-ts/datamanager';
import { openDb, type Db } from '@agola-ts/db';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage } from '@agola-ts/ost';
import { createRunserviceClient } from '@agola-ts/runservice-client';
import { startEtcd } from '@agola-ts/testkit';
import { median, runInterleaved, runLoad } from '@agola-ts/testkit/bench';
import type { Run } from '@agola-ts/types';
import { READDB_FILE, RUNSERVICE_BASE_PATH, createRunservice } from '../src/runservice.js';
import { DATA_TYPES, queries } from '../src/readdb.js';

const CLIENTS = 32;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 20_000);
const PROJECTS = 100;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LOAD_SECONDS = Number(process.env['BENCH_LOAD_S'] ?? 5);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 2000);

const fmt = (n: number, d = 1) => n.toFixed(d);

/**
 * The query this benchmark replaced, kept as the baseline, with the plan it had before the
 * `(counter, grouppath)` index existed (`indexed by` the one index there was).
 */
const LIKE_QUERY =
  "select d.data from run_ost r indexed by run_ost_grouppath join rundata_ost d on d.id = r.id where r.grouppath like ? escape '\\' and r.counter = ? order by r.id desc limit 1";

/** `QUERIES` lookups of random (project, counter) pairs, `CLIENTS` at a time; queries/s. */
async function queryRate(lookup: (group: string, counter: number) => Promise<Run | undefined>) {
  let next = 0;
  let missing = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < QUERIES) {
        next++;
        const p = Math.floor(Math.random() * PROJECTS);
        const counter = 1 + Math.floor(Math.random() * (RUNS / PROJECTS));
        const run = await lookup(`/project/p${p}`, counter);
        if (!run || run.counter !== counter) missing++;
      }
    }),
  );
  if (missing > 0) throw new Error(`${missing} lookups found no run`);
  return QUERIES / ((performance.now() - t) / 1000);
}

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'rs-bygroup-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const ost = createPosixStorage({ path: join(dir, 'ost') });
  const rs = createRunservice(
    {
      dataDir: join(dir, 'rs'),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: join(dir, 'ost') },
    },
    { etcd: etcd.withPrefix('rs/'), ost },
  );
  // a second datamanager on the runservice's data writes the archived runs directly
  const dm = createDataManager({
    etcd: etcd.withPrefix('rs/'),
    ost,
    basePath: RUNSERVICE_BASE_PATH,
    dataTypes: [...DATA_TYPES],
  });
  let db: Db | undefined;
  try {
    console.log(
      `# @agola-ts/runservice run-by-group benchmark: ${RUNS} archived runs in ${PROJECTS} projects`,
    );
    await rs.start();
    await dm.start();
    const perProject = RUNS / PROJECTS;
    const t = performance.now();
    for (let c = 1; c <= perProject; c++) {
      await dm.write(
        Array.from({ length: PROJECTS }, (_, p) => {
          const id = `run-${String(c).padStart(6, '0')}-${String(p).padStart(3, '0')}`;
          const run: Run = {
            id,
            name: 'bench',
            counter: c,
            group: `/project/p${p}/branch/main`,
            phase: 'finished',
            result: 'success',
            tasks: {},
            archived: true,
          };
          return { actionType: 'put' as const, dataType: 'run', id, data: JSON.stringify(run) };
        }),
      );
    }
    const client = createRunserviceClient({ baseUrl: rs.url ?? '' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = await client
        .getRunByGroup(`/project/p${PROJECTS - 1}`, perProject)
        .then(() => true)
        .catch(() => false);
      if (found) break;
      if (Date.now() > deadline) throw new Error('the runs did not reach the readdb in 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`written and in the readdb in ${fmt((performance.now() - t) / 1000, 2)} s`);

    db = await openDb(join(dir, 'rs', READDB_FILE), { readConnections: 4 });
    const current = (group: string, counter: number) =>
      db!.do((tx) => queries.archivedRunByCounter(tx, group, counter), {
        readonly: true,
        autocommit: true,
      });
    const like = (group: string, counter: number) =>
      db!.do(
        async (tx) => {
          const row = await tx.get<{ data: string }>(LIKE_QUERY, [
            `${group.replace(/[\\%_]/g, (ch) => `\\${ch}`)}/%`,
            counter,
          ]);
          return row ? (JSON.parse(row.data) as Run) : undefined;
        },
        { readonly: true, autocommit: true },
      );
    const url = `${rs.url ?? ''}/runs/group/${encodeURIComponent('/project/p42')}/${Math.floor(perProject / 2)}`;
    const p99s: number[] = [];
    let errors = 0;
    const sides: Array<['current' | 'like' | 'http', () => Promise<number>]> = [
      ['current', () => queryRate(current)],
      ['like', () => queryRate(like)],
      [
        'http',
        async () => {
          // CLIENTS keep-alive connections from autocannon in a child process
          const res = await runLoad({ url, connections: CLIENTS, durationSeconds: LOAD_SECONDS });
          p99s.push(res.p99);
          errors += res.errors;
          return res.perSecond;
        },
      ],
    ];
    const [currentRates, likeRates, httpRates] = await runInterleaved(
      sides,
      ROUNDS,
      ([, run]) => run(),
      {
        onRound: (r, ran) =>
          console.log(
            `round ${r + 1}: ${ran.map(({ side: [name], result }) => `${name} ${fmt(result, 0)}/s`).join(', ')}`,
          ),
      },
    );
    const rates = { current: currentRates!, like: likeRates!, http: httpRates! };
    console.log(
      'side                                                      | median /s | per round',
    );
    console.log(
      `readdb run by group and counter (current query)           | ${fmt(median(rates.current), 0).padStart(9)} | ${rates.current.map((x) => fmt(x, 0)).join(' / ')}`,
    );
    console.log(
      `readdb run by group and counter (LIKE scan, the old query) | ${fmt(median(rates.like), 0).padStart(9)} | ${rates.like.map((x) => fmt(x, 0)).join(' / ')}`,
    );
    console.log(
      `GET /runs/group/{group}/{counter}, autocannon, ${CLIENTS} conns  | ${fmt(median(rates.http), 0).padStart(9)} | ${rates.http.map((x) => fmt(x, 0)).join(' / ')} (p99 ${fmt(median(p99s), 0)} ms, ${errors} errors)`,
    );
    console.log(
      `query: ${fmt(median(rates.current) / median(rates.like), 1)}x the old one (${QUERIES} random lookups, ${CLIENTS} at a time, per round)`,
    );
  } finally {
    await db?.close();
    await dm.stop();
    await rs.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

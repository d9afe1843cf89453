// Configstore benchmark (npm run bench): GET /projects/{ref} with 32 keep-alive connections
// from a SEPARATE process (autocannon, run as a child process), each request naming the next
// of 64 projects, next to a bare fastify route in the same server process measured the same
// way (64 paths too, answering the same JSON); the routes interleaved round by round,
// medians; the server process's peak RSS under that load. Then POST /projects and the
// datamanager's commits/s with an in-process client. Same etcd and posix storage for all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify } from 'fastify';
import { createConfigstoreClient } from '@agola-ts/configstore-client';
import { createDataManager } from '@agola-ts/datamanager';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage } from '@agola-ts/ost';
import { startEtcd } from '@agola-ts/testkit';
import { percentile, runInterleaved, runLoad, summarizeLoads } from '@agola-ts/testkit/bench';
import { createConfigstore } from '../src/index.js';

const CLIENTS = 32;
const PART_MS = 5000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LOAD_SECONDS = Number(process.env['BENCH_LOAD_S'] ?? 5);
const PROJECTS = 64;

const fmt = (n: number, d = 1) => n.toFixed(d);

interface Result {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs `CLIENTS` loops of `op` for `PART_MS`; `op` resolves false on an unexpected answer. */
async function throughput(op: (worker: number, i: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + PART_MS;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        if (!(await op(w, i))) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

/** One HTTP request; true when the status is the expected one (the body is read either way). */
async function request(url: string, expected: number, init?: RequestInit): Promise<boolean> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status === expected;
}

const row = (name: string, r: Result, base?: Result) =>
  console.log(
    `${name.padEnd(34)} | ${fmt(r.perSecond, 0).padStart(8)} | ${fmt(r.p50, 2).padStart(7)} | ${fmt(r.p99, 2).padStart(7)} | ${String(r.errors).padStart(6)} | ${base ? `${fmt(r.perSecond / base.perSecond, 2)}x` : ''}`,
  );

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'cs-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const ost = createPosixStorage({ path: join(dir, 'ost') });
  const cs = createConfigstore(
    {
      dataDir: join(dir, 'data'),
      web: { listen: { host: '127.0.0.1', port: 0 } },
      etcd: { endpoints: [] },
      objectStorage: { type: 'posix', path: join(dir, 'ost') },
    },
    { etcd: etcd.withPrefix('cs/'), ost },
  );
  const bare = fastify({ logger: false });
  const dm = createDataManager({
    etcd: etcd.withPrefix('dm/'),
    ost,
    basePath: 'dmbench',
    dataTypes: ['project'],
  });
  try {
    console.log(
      `# @agola-ts/configstore benchmark: ${CLIENTS} concurrent HTTP clients on loopback`,
    );
    console.log(
      '# (etcd 3.4 + posix storage + sqlite readdb on this machine; a shared machine: noisy)',
    );
    await cs.start();
    const url = cs.url ?? '';
    const client = createConfigstoreClient({ baseUrl: url });
    await client.createRemoteSource({
      Name: 'gitea',
      APIURL: 'https://gitea.example.com',
      Type: 'gitea',
      AuthType: 'password',
    });
    const user = await client.createUser({
      user_name: 'bench',
      create_user_la_request: { remote_source_name: 'gitea', remote_user_id: '1' },
    });
    const laId = Object.keys(user.linked_accounts ?? {})[0] ?? '';
    await client.createOrg({ Name: 'acme', Visibility: 'public' });
    // one group per client: creates in one group all take its id's change group
    for (let w = 0; w < CLIENTS; w++) {
      await client.createProjectGroup({
        Name: `group${w}`,
        Parent: { type: 'projectgroup', id: 'org/acme' },
        Visibility: 'public',
      });
    }
    const projectBody = (name: string, w: number) => ({
      Name: name,
      Parent: { type: 'projectgroup' as const, id: `org/acme/group${w}` },
      Visibility: 'public' as const,
      RemoteRepositoryConfigType: 'remotesource' as const,
      RemoteSourceID: 'gitea',
      LinkedAccountID: laId,
      RepositoryID: '1',
      RepositoryPath: 'bench/repo',
    });
    // the GETs go round PROJECTS projects, two per group
    const projects = [];
    for (let i = 0; i < PROJECTS; i++) {
      projects.push(await client.createProject(projectBody(`web${i}`, i % CLIENTS)));
    }
    const project = projects[0]!;
    const projectJson = JSON.stringify(project);

    bare.get('/bare/:n', async () => JSON.parse(projectJson) as unknown);
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const address = bare.server.address();
    const barePort = typeof address === 'object' && address ? address.port : 0;

    // the setup's background work (storage sync of its wals) ends before the measures
    await new Promise((r) => setTimeout(r, 2000));
    const apiPath = new URL(url).pathname.replace(/\/$/, '');
    const routes: Array<[string, string, string[]]> = [
      [
        'bare fastify GET (same JSON)',
        `http://127.0.0.1:${barePort}`,
        projects.map((_, i) => `/bare/${i}`),
      ],
      ['GET /projects/{id}', url, projects.map((p) => `${apiPath}/projects/${p.id}`)],
      [
        'GET /projects/{path}',
        url,
        projects.map(
          (p, i) =>
            `${apiPath}/projects/${encodeURIComponent(`org/acme/group${i % CLIENTS}/${p.name}`)}`,
        ),
      ],
    ];
    // BENCH_ROUTES=1,2 keeps those routes (0 is bare fastify), to profile one of them
    const only = process.env['BENCH_ROUTES']?.split(',').map(Number);
    const active = only ? routes.filter((_, i) => only.includes(i)) : routes;
    console.log(
      `\n## GET, ${CLIENTS} keep-alive connections from autocannon in another process, ${PROJECTS} projects in turn, ${LOAD_SECONDS} s per route and round, ${ROUNDS} rounds interleaved (order rotated), medians; server RSS sampled every 50 ms`,
    );
    // CLIENTS keep-alive connections from autocannon in a child process, each its own
    // autocannon instance going through the paths from its own offset, for LOAD_SECONDS;
    // this (the server's) process's RSS sampled meanwhile; rotated rounds
    const perRoute = await runInterleaved(active, ROUNDS, ([, origin, paths]) =>
      runLoad({
        url: origin,
        connections: CLIENTS,
        durationSeconds: LOAD_SECONDS,
        paths,
        sampleRssMs: 50,
      }),
    );
    const results = new Map(active.map(([name], i) => [name, summarizeLoads(perRoute[i]!)]));
    const med = (name: string) => {
      const m = results.get(name) ?? summarizeLoads([]);
      return {
        ...m,
        peakRssMiB: m.peakRssBytes / 2 ** 20,
        rounds: m.perRound.map((x) => fmt(x, 0)).join(' / '),
        cpuUs: m.cpuMicrosPerRequest,
      };
    };
    console.log(
      'route                          | req/s (median) |  p50 ms |  p99 ms | errors | peak RSS MiB | vs bare | req/s per round',
    );
    const bareMed = med(routes[0]![0]);
    for (const [name] of routes) {
      const m = med(name);
      console.log(
        `${name.padEnd(30)} | ${fmt(m.perSecond, 0).padStart(14)} | ${fmt(m.p50, 0).padStart(7)} | ${fmt(m.p99, 0).padStart(7)} | ${String(m.errors).padStart(6)} | ${fmt(m.peakRssMiB, 0).padStart(12)} | ${name === routes[0]![0] ? '       ' : `${fmt(m.perSecond / bareMed.perSecond, 2)}x`.padStart(7)} | ${m.rounds}`,
      );
    }
    // CPU time per request moves much less than req/s when other jobs take the cores
    console.log(
      `server CPU per request (median): ${routes.map(([name]) => `${name} ${fmt(med(name).cpuUs, 0)} µs`).join(', ')}; by id ${fmt(bareMed.cpuUs / med(routes[1]![0]).cpuUs, 2)}x bare's CPU efficiency`,
    );
    if (only) return;
    const byIdRatio = med(routes[1]![0]).perSecond / bareMed.perSecond;
    const byPathRatio = med(routes[2]![0]).perSecond / bareMed.perSecond;

    console.log(
      '\n## POST /projects and datamanager commits, 32 concurrent clients in this process (fetch)',
    );
    console.log(
      'route                              |    req/s |  p50 ms |  p99 ms | errors | vs bare',
    );
    const creates = await throughput((w, i) =>
      request(`${url}/projects`, 201, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(projectBody(`proj-${i}`, w)),
      }),
    );
    row('POST /projects', creates);

    await dm.start();
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, w) => dm.changeGroupsToken([`bench-${w}`])),
    );
    const commits = await throughput(async (w, i) => {
      const res = await dm.write(
        [{ actionType: 'put', dataType: 'project', id: `p-${w}-${i}`, data: projectJson }],
        tokens[w],
      );
      tokens[w] = res.changeGroupsToken;
      return true;
    });
    row('datamanager commits (1 put each)', commits);
    console.log(
      `\nreads: ${fmt(byIdRatio, 2)}x bare fastify by id, ${fmt(byPathRatio, 2)}x by path (goal >= 0.3x by id); server peak RSS under the GET load ${fmt(Math.max(med(routes[1]![0]).peakRssMiB, med(routes[2]![0]).peakRssMiB), 0)} MiB`,
    );
    console.log(
      `creates: ${fmt(creates.perSecond, 0)}/s = ${fmt(creates.perSecond / commits.perSecond, 2)}x the datamanager's ${fmt(commits.perSecond, 0)} commits/s (a create is one commit plus its validation and the readdb apply)`,
    );
  } finally {
    await bare.close();
    await cs.stop();
    await dm.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

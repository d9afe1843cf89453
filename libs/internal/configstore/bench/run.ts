// Configstore benchmark (npm run bench): GET /projects/{ref} and POST /projects through HTTP on
// loopback, next to a bare fastify route and the datamanager's commits/s, all in the same run
// against the same etcd and posix storage. Bounded: every part runs for PART_MS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify } from 'fastify';
import { createConfigstoreClient } from '@agola-ts/configstore-client';
import { createDataManager } from '@agola-ts/datamanager';
import { createEtcdClient } from '@agola-ts/etcd';
import { createPosixStorage } from '@agola-ts/ost';
import { startEtcd } from '@agola-ts/testkit';
import { createConfigstore } from '../src/index.js';

const CLIENTS = 32;
const PART_MS = 5000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
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
      `# @agola-ts/configstore benchmark: ${CLIENTS} concurrent HTTP clients on loopback, ${PART_MS / 1000} s per part`,
    );
    console.log('# (etcd 3.4 + posix storage + sqlite readdb on this machine)');
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
    const project = await client.createProject(projectBody('web', 0));
    const projectJson = JSON.stringify(project);

    bare.get('/bare', async () => JSON.parse(projectJson) as unknown);
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const address = bare.server.address();
    const barePort = typeof address === 'object' && address ? address.port : 0;

    console.log(
      '\nroute                              |    req/s |  p50 ms |  p99 ms | errors | vs bare',
    );
    const bareRes = await throughput(() => request(`http://127.0.0.1:${barePort}/bare`, 200));
    row('bare fastify GET (same JSON)', bareRes);
    const byId = await throughput(() => request(`${url}/projects/${project.id}`, 200));
    row('GET /projects/{id}', byId, bareRes);
    const byPath = await throughput(() =>
      request(`${url}/projects/${encodeURIComponent('org/acme/group0/web')}`, 200),
    );
    row('GET /projects/{path}', byPath, bareRes);
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
      `\nreads: ${fmt(byId.perSecond / bareRes.perSecond, 2)}x bare fastify by id, ${fmt(byPath.perSecond / bareRes.perSecond, 2)}x by path (goal >= 0.3x)`,
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

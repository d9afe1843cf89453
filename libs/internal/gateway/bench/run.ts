// Gateway benchmark (npm run bench).
// 1. GET /api/v1alpha/projects/{ref}/runs/{n} with 32 keep-alive connections from a SEPARATE
//    process (autocannon, a child process), next to a bare fastify route answering the same
//    JSON in this process, measured the same way; the routes interleaved round by round,
//    medians; this process's peak RSS under that load. The downstream routes the gateway
//    calls (the configstore's project and token lookups, the runservice's run-by-group query)
//    are measured the same way, to tell the gateway's share from theirs.
// 2. Push to the forge simulator -> first step running, with every service in this process
//    (configstore, runservice, scheduler, the local executor, gateway), as `agola serve`
//    runs them, with their default loop periods.
// Everything in one process on one etcd and posix storage: a shared 2-core machine is noisy.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify } from 'fastify';
import { createConfigstore } from '@agola-ts/configstore';
import { createConfigstoreClient } from '@agola-ts/configstore-client';
import { createEtcdClient } from '@agola-ts/etcd';
import { createExecutor } from '@agola-ts/executor';
import { createGatewayClient } from '@agola-ts/gateway-client';
import { createRunservice } from '@agola-ts/runservice';
import { createRunserviceClient } from '@agola-ts/runservice-client';
import { createScheduler } from '@agola-ts/scheduler';
import { startEtcd, startForge } from '@agola-ts/testkit';
import { percentile, runInterleaved, runLoad, summarizeLoads } from '@agola-ts/testkit/bench';
import type { Run } from '@agola-ts/types';
import { createGateway } from '../src/index.js';

const CLIENTS = 32;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LOAD_SECONDS = Number(process.env['BENCH_LOAD_S'] ?? 5);
const PUSHES = Number(process.env['BENCH_PUSHES'] ?? 10);
const ADMIN_TOKEN = 'bench-admin-token';

const fmt = (n: number, d = 1) => n.toFixed(d);

async function main() {
  const etcdServer = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'gw-bench-'));
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'bench/' });
  const forge = await startForge({ type: 'gitea', sshURLAsHTTP: true });
  const bare = fastify({ logger: false });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    console.log(`# @agola-ts/gateway benchmark (node ${process.version})`);
    console.log(
      '# configstore + runservice + gateway in this process (as `agola serve`), etcd 3.4, posix storage; a shared machine: noisy',
    );
    const cs = createConfigstore(
      {
        dataDir: join(dir, 'cs'),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: join(dir, 'cs-ost') },
      },
      { etcd: etcd.withPrefix('cs/') },
    );
    await cs.start();
    stops.push(() => cs.stop());
    const rs = createRunservice(
      {
        dataDir: join(dir, 'rs'),
        web: { listen: { host: '127.0.0.1', port: 0 } },
        etcd: { endpoints: [] },
        objectStorage: { type: 'posix', path: join(dir, 'rs-ost') },
      },
      { etcd: etcd.withPrefix('rs/') },
    );
    await rs.start();
    stops.push(() => rs.stop());
    // the gateway reaches them by URL (keep-alive clients of its own), as in `agola serve`
    const port = await new Promise<number>((resolve) => {
      const probe = fastify();
      void probe.listen({ host: '127.0.0.1', port: 0 }).then(() => {
        const a = probe.server.address();
        const p = typeof a === 'object' && a ? a.port : 0;
        void probe.close().then(() => resolve(p));
      });
    });
    const gwURL = `http://127.0.0.1:${port}`;
    const gw = createGateway({
      apiExposedURL: gwURL,
      webExposedURL: gwURL,
      configstoreURL: `http://127.0.0.1:${cs.port ?? 0}`,
      runserviceURL: `http://127.0.0.1:${rs.port ?? 0}`,
      web: { listen: { host: '127.0.0.1', port } },
      tokenSigning: { method: 'hmac', key: 'bench-signing-key' },
      adminToken: ADMIN_TOKEN,
    });
    await gw.start();
    stops.push(() => gw.stop());
    const csClient = createConfigstoreClient({ baseUrl: cs.url ?? '' });
    const rsClient = createRunserviceClient({ baseUrl: rs.url ?? '' });
    const admin = createGatewayClient({ baseUrl: gwURL, token: ADMIN_TOKEN });
    const anonymous = createGatewayClient({ baseUrl: gwURL });

    // a user (registered through the forge), its token, an org, two projects with runs
    await admin.createRemoteSource({
      name: 'gitea',
      apiurl: forge.apiURL,
      type: 'gitea',
      auth_type: 'password',
      skip_ssh_host_key_check: true,
    });
    forge.addUser({ login: 'alice', password: 'pw' });
    await anonymous.register({
      username: 'alice',
      remote_source_name: 'gitea',
      remote_source_login_name: 'alice',
      remote_source_login_password: 'pw',
    });
    const { token } = await admin.createUserToken('alice', 'bench');
    const alice = createGatewayClient({ baseUrl: gwURL, token });
    await alice.createOrg({ name: 'acme', visibility: 'public' });
    const repos = await Promise.all([
      forge.createRepo({ owner: 'alice', name: 'web' }),
      forge.createRepo({ owner: 'alice', name: 'api' }),
    ]);
    const [pub, priv] = await Promise.all([
      alice.createProject({
        name: 'web',
        parent_ref: 'org/acme',
        visibility: 'public',
        repo_path: repos[0].path,
        remote_source_name: 'gitea',
      }),
      alice.createProject({
        name: 'api',
        parent_ref: 'org/acme',
        visibility: 'private',
        repo_path: repos[1].path,
        remote_source_name: 'gitea',
      }),
    ]);
    // a scheduler and a local executor (default periods): the runs below run and get archived
    const scheduler = createScheduler({ runserviceURL: rs.url ?? '' });
    await scheduler.start();
    stops.push(() => scheduler.stop());
    const executor = createExecutor({
      dataDir: join(dir, 'ex'),
      runserviceURL: rs.url ?? '',
      web: { listen: { host: '127.0.0.1', port: 0 } },
      driver: { type: 'local' },
    });
    await executor.start();
    stops.push(() => executor.stop());
    const config = `
version: v0
runs:
  - name: push
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
        steps:
          - run: sleep 0.2
`;
    const pushed = await forge.createRepo({ owner: 'alice', name: 'pushed' });
    const project = await alice.createProject({
      name: 'pushed',
      parent_ref: 'org/acme',
      visibility: 'public',
      repo_path: pushed.path,
      remote_source_name: 'gitea',
    });
    const group = `/project/${project.id}`;
    if (process.env['BENCH_PROBE']) {
      // sequential latency of each downstream call a webhook makes (a quick look)
      await forge.commit({ repo: pushed.path, files: { '.agola/config.yml': config } });
      const stored = await csClient.getProject(project.id);
      const sha = (await forge.commit({ repo: pushed.path, files: { x: '1' } })).trim();
      const probe = async (name: string, op: () => Promise<unknown>) => {
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t = performance.now();
          await op().catch(() => undefined);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        console.log(`${name.padEnd(40)} p50 ${fmt(percentile(times, 50), 1)} ms`);
      };
      await probe('cs getProject', () => csClient.getProject(project.id));
      await probe('cs user by linked account', () =>
        csClient.getUserByQuery({
          query_type: 'bylinkedaccount',
          linkedaccountid: stored.linked_account_id ?? '',
        }),
      );
      await probe('cs getRemoteSource', () => csClient.getRemoteSource('gitea'));
      await probe('cs project variables + secrets (tree)', () =>
        Promise.all([
          csClient.getVariables('project', project.id, { tree: true }),
          csClient.getSecrets('project', project.id, { tree: true }),
        ]),
      );
      await probe('forge raw file (present)', () =>
        fetch(`${forge.apiURL}/api/v1/repos/${pushed.path}/raw/.agola/config.yml?ref=${sha}`, {
          headers: { authorization: `token ${token}` },
        }).then((r) => r.arrayBuffer()),
      );
    }
    const toRunning: number[] = [];
    const stages = new Map<string, number[]>(
      ['created', 'started', 'task', 'setup', 'step'].map((k) => [k, []]),
    );
    const webhookAnswered: number[] = [];
    const commitCalls: number[] = [];
    let failed = 0;
    // the executor registers with its first heartbeat: wait for it
    for (let i = 0; i < 100 && executor.id === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < PUSHES + 1; i++) {
      const before = (await rsClient.getGroupRuns(group, { limit: 1 })).runs[0]?.counter ?? 0;
      const t0 = Date.now();
      // polled while the simulated git client still runs (the forge sends the webhook when
      // it receives the push, before the client's call returns): a stage reached meanwhile is
      // seen when it happens, not when the call returns
      let t1 = 0;
      const committed = forge
        .commit({
          repo: pushed.path,
          files: { '.agola/config.yml': config, 'n.txt': String(i) },
          branch: 'main',
        })
        .then(() => {
          t1 = Date.now();
        });
      committed.catch(() => undefined); // awaited below
      let ok = false;
      let runningAt = 0;
      // first time each stage was seen (poll every 5 ms): the run, its start, the task's
      // start on the executor, the setup step's end
      const seen = new Map<string, number>();
      const mark = (stage: string) => {
        if (!seen.has(stage)) seen.set(stage, Date.now());
      };
      for (const deadline = t0 + 20_000; Date.now() < deadline;) {
        const run = (await rsClient.getGroupRuns(group, { limit: 1 })).runs[0];
        if (run && run.counter > before) {
          mark('created');
          const full = await rsClient.getRun(run.id);
          if (full.run.phase === 'running') mark('started');
          const rt = Object.values(full.run.tasks)[0];
          if (rt && rt.status !== 'notstarted') mark('task');
          if (rt && rt.setup_step.phase === 'success') mark('setup');
          const step = rt?.steps?.[0];
          if (step && step.phase !== 'notstarted') {
            runningAt = Date.now();
            ok = true;
            break;
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await committed;
      const delivery = forge.deliveries.filter((d) => d.url.includes(project.id)).at(-1);
      if (i > 0 && delivery && ok) {
        let prev = delivery.sentAt;
        for (const stage of ['created', 'started', 'task', 'setup']) {
          const at = seen.get(stage) ?? prev;
          stages.get(stage)!.push(at - prev);
          prev = at;
        }
        stages.get('step')!.push(runningAt - prev);
      }
      // the first push warms the path up: not counted
      if (i === 0) continue;
      if (!ok || !delivery) failed++;
      else {
        toRunning.push(runningAt - delivery.sentAt);
        webhookAnswered.push(delivery.durationMs);
        commitCalls.push(t1 - t0);
      }
    }
    for (const xs of [toRunning, webhookAnswered, commitCalls]) xs.sort((a, b) => a - b);
    console.log(
      `\n## push to the forge -> first step running: ${PUSHES} pushes one after the other (after a warm-up push), from the forge's webhook delivery (sent when the push is received), scheduler and local executor with their default periods, runservice push dispatch`,
    );
    console.log('measure                                        |   p50 ms |   p90 ms |   max ms');
    const pushRow = (name: string, xs: number[]) =>
      console.log(
        `${name.padEnd(46)} | ${fmt(percentile(xs, 50), 0).padStart(8)} | ${fmt(percentile(xs, 90), 0).padStart(8)} | ${fmt(xs.at(-1) ?? NaN, 0).padStart(8)}`,
      );
    pushRow('webhook sent -> answered (runs created)', webhookAnswered);
    pushRow('webhook sent -> first step running', toRunning);
    pushRow('(the simulated git client: commit + push call)', commitCalls);
    const stageNames: Record<string, string> = {
      created: 'stage: webhook sent -> run seen',
      started: 'stage: -> run running (scheduler)',
      task: 'stage: -> task started (executor)',
      setup: 'stage: -> setup step done',
      step: 'stage: -> first step running',
    };
    for (const [stage, xs] of stages)
      pushRow(
        stageNames[stage] ?? stage,
        xs.sort((a, b) => a - b),
      );
    if (failed > 0) console.log(`(${failed} pushes did not reach a running step within 20 s)`);
    // BENCH_PUSH_ONLY=1 stops after the push phase (for profiling the push path)
    if (process.env['BENCH_PUSH_ONLY']) return;

    const task = (id: string, command: string) => ({
      [id]: {
        id,
        name: 'build',
        level: 0,
        depends: {},
        runtime: {
          type: 'pod' as const,
          containers: [{ image: 'busybox', privileged: false, entrypoint: '', volumes: [] }],
        },
        steps: [{ type: 'run' as const, name: 'step', command }],
      },
    });
    for (const p of [pub, priv]) {
      for (let i = 0; i < 3; i++) {
        await rsClient.createRun({
          name: 'bench',
          group: `/project/${p.id}/branch/main`,
          annotations: { branch: 'main', ref_type: 'branch' },
          run_config_tasks: task(`${p.name}-t${i}`, 'echo hi'),
        });
      }
    }
    // run 4 of the public project keeps running while it is measured
    await rsClient.createRun({
      name: 'bench',
      group: `/project/${pub.id}/branch/main`,
      annotations: { branch: 'main', ref_type: 'branch' },
      run_config_tasks: task('web-long', 'sleep 600'),
    });
    const waitRun = async (projectId: string, n: number, ok: (r: Run) => boolean) => {
      for (let i = 0; i < 600; i++) {
        const { run } = await rsClient.getRunByGroup(`/project/${projectId}`, n);
        if (ok(run)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`run ${n} of ${projectId} not as expected after 60 s`);
    };
    await waitRun(pub.id, 2, (r) => r.archived === true);
    await waitRun(priv.id, 2, (r) => r.archived === true);
    await waitRun(pub.id, 4, (r) => r.phase === 'running');
    const runJson = JSON.stringify(await alice.getRun({ kind: 'project', ref: pub.path }, 2));
    bare.get('/bare', async () => JSON.parse(runJson) as unknown);
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const ba = bare.server.address();
    const barePort = typeof ba === 'object' && ba ? ba.port : 0;
    await csClient.getUserByQuery({ query_type: 'bytoken', token });

    const seg = encodeURIComponent;
    const auth = { authorization: `token ${token}` };
    const routes: [string, string, Record<string, string>][] = [
      ['bare fastify GET (same JSON)', `http://127.0.0.1:${barePort}/bare`, {}],
      [
        'gw GET run (archived), user token',
        `${gwURL}/api/v1alpha/projects/${seg(pub.path)}/runs/2`,
        auth,
      ],
      [
        'gw GET run (archived), anonymous',
        `${gwURL}/api/v1alpha/projects/${seg(pub.path)}/runs/2`,
        {},
      ],
      [
        'gw GET run (archived), private',
        `${gwURL}/api/v1alpha/projects/${seg(priv.path)}/runs/2`,
        auth,
      ],
      [
        'gw GET run (running), user token',
        `${gwURL}/api/v1alpha/projects/${seg(pub.path)}/runs/4`,
        auth,
      ],
      [
        'rs GET /runs/group/{g}/{n} archived',
        `${rs.url ?? ''}/runs/group/${seg(`/project/${pub.id}`)}/2`,
        {},
      ],
      [
        'rs GET /runs/group/{g}/{n} running',
        `${rs.url ?? ''}/runs/group/${seg(`/project/${pub.id}`)}/4`,
        {},
      ],
      ['cs GET /projects/{path}', `${cs.url ?? ''}/projects/${seg(pub.path)}`, {}],
      ['cs GET /users?bytoken', `${cs.url ?? ''}/users?query_type=bytoken&token=${seg(token)}`, {}],
    ];
    console.log(
      `\n## GET, ${CLIENTS} keep-alive connections from autocannon in another process, ${LOAD_SECONDS} s per route and round, ${ROUNDS} rounds interleaved (order rotated), medians; RSS of this process sampled every 50 ms`,
    );
    // BENCH_ROUTES=0,1 measures only those rows (for profiling); the bare route always runs
    const only = process.env['BENCH_ROUTES'];
    if (only) {
      const keep = new Set(['0', ...only.split(',')]);
      for (let i = routes.length - 1; i > 0; i--) if (!keep.has(String(i))) routes.splice(i, 1);
    }
    if (process.env['BENCH_PROBE']) {
      // sequential latency of each route (a quick look, not part of the report)
      for (const [name, routeUrl, headers] of routes) {
        const times: number[] = [];
        for (let i = 0; i < 50; i++) {
          const t = performance.now();
          const res = await fetch(routeUrl, { headers });
          await res.arrayBuffer();
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        console.log(`${name.padEnd(32)} sequential p50 ${fmt(percentile(times, 50), 2)} ms`);
      }
    }
    if (process.env['BENCH_PROBE']) {
      const inproc = async (name: string, op: () => Promise<unknown>) => {
        let n = 0;
        const end = performance.now() + 3000;
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (performance.now() < end) {
              await op();
              n++;
            }
          }),
        );
        console.log(`${name.padEnd(32)} in-process x32 ${fmt(n / 3, 0)} req/s`);
      };
      await inproc('cs client getProject', () => csClient.getProject(pub.path));
      await inproc('cs client bytoken', () =>
        csClient.getUserByQuery({ query_type: 'bytoken', token }),
      );
      await inproc('rs client getRunByGroup', () =>
        rsClient.getRunByGroup(`/project/${pub.id}`, 2),
      );
      await inproc('gw client getRun', () => alice.getRun({ kind: 'project', ref: pub.path }, 2));
    }
    // CLIENTS keep-alive connections from autocannon in a child process, one request at a
    // time each, for LOAD_SECONDS; this process's RSS sampled meanwhile; rotated rounds
    const perRoute = await runInterleaved(routes, ROUNDS, ([, routeUrl, headers]) =>
      runLoad({
        url: routeUrl,
        connections: CLIENTS,
        durationSeconds: LOAD_SECONDS,
        headers,
        sampleRssMs: 50,
      }),
    );
    const results = new Map(routes.map(([name], i) => [name, summarizeLoads(perRoute[i]!)]));
    const med = (name: string) => {
      const m = results.get(name)!;
      return {
        ...m,
        peakRssMiB: m.peakRssBytes / 2 ** 20,
        rounds: m.perRound.map((x) => fmt(x, 0)).join(' / '),
      };
    };
    console.log(
      'route                            | req/s (median) |  p50 ms |  p99 ms | errors | peak RSS MiB | vs bare | req/s per round',
    );
    const bareMed = med(routes[0]![0]);
    for (const [name] of routes) {
      const m = med(name);
      console.log(
        `${name.padEnd(32)} | ${fmt(m.perSecond, 0).padStart(14)} | ${fmt(m.p50, 0).padStart(7)} | ${fmt(m.p99, 0).padStart(7)} | ${String(m.errors).padStart(6)} | ${fmt(m.peakRssMiB, 0).padStart(12)} | ${name === routes[0]![0] ? '       ' : `${fmt(m.perSecond / bareMed.perSecond, 3)}x`.padStart(7)} | ${m.rounds}`,
      );
    }
    const ratio = med(routes[1]![0]).perSecond / bareMed.perSecond;
    const runningRatio = results.has(routes[4]?.[0] ?? '')
      ? med(routes[4]![0]).perSecond / bareMed.perSecond
      : NaN;

    console.log(
      `\nsummary: gateway GET run ${fmt(ratio, 3)}x a bare fastify route for an archived run, ${fmt(runningRatio, 3)}x for a running one (goal >= 0.3x); push webhook -> first step running p50 ${fmt(percentile(toRunning, 50), 0)} ms (goal < 500 ms)`,
    );
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await bare.close();
    await forge.stop();
    etcd.close();
    await etcdServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

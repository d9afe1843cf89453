import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOfRef, planRunsFromFile } from '@agola-ts/runconfig';
import { createRunserviceClient, plannedRunToCreateRequest } from '@agola-ts/runservice-client';
import { createGatewayClient } from '@agola-ts/gateway-client';
import { getFreePort } from '@agola-ts/testkit';

const exec = promisify(execFile);

const here = dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = 'serve-test-admin-token';
// the bin (not main.js): `serve` gets its 16 libuv pool threads as a user's does
const AGOLA_BIN = join(here, '../dist/agola.cjs');
// `npm run quickstart`'s last part, run here non-interactively so the quickstart cannot rot
const QUICKSTART = join(here, '../../../tools/quickstart/quickstart.mjs');

interface Ports {
  gateway: number;
  executor: number;
  configstore: number;
  runservice: number;
  scheduler: number;
  notification: number;
  gitserver: number;
}

function configText(dir: string, p: Ports): string {
  const rs = `http://127.0.0.1:${p.runservice}`;
  const cs = `http://127.0.0.1:${p.configstore}`;
  const gw = `http://127.0.0.1:${p.gateway}`;
  return `
gateway:
  apiExposedURL: ${gw}
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: ${cs}
  web: { listenAddress: 127.0.0.1:${p.gateway} }
  tokenSigning: { method: hmac, key: serve-test-signing-key-0123456789 }
  adminToken: ${ADMIN_TOKEN}
gitserver:
  dataDir: ${dir}/gitserver
  web: { listenAddress: 127.0.0.1:${p.gitserver} }
scheduler:
  runserviceURL: ${rs}
  web: { listenAddress: 127.0.0.1:${p.scheduler} }
notification:
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: ${cs}
  web: { listenAddress: 127.0.0.1:${p.notification} }
configstore:
  dataDir: ${dir}/configstore
  web: { listenAddress: 127.0.0.1:${p.configstore} }
  objectStorage: { type: posix, path: ${dir}/configstore/ost }
runservice:
  dataDir: ${dir}/runservice
  web: { listenAddress: 127.0.0.1:${p.runservice} }
  objectStorage: { type: posix, path: ${dir}/runservice/ost }
executor:
  dataDir: ${dir}/executor
  runserviceURL: ${rs}
  web: { listenAddress: 127.0.0.1:${p.executor} }
  driver: { type: local }
`;
}

interface Spawned {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function spawnAgola(args: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  const child = spawn(process.execPath, [AGOLA_BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitHealthy(url: string, proc: Spawned, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`agola serve exited: ${proc.err()}\n${proc.out().slice(-4000)}`);
    }
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy: ${proc.out().slice(-4000)}`);
}

/** Pids of the processes whose command line is exactly `argv`. */
async function pidsOf(argv: string[]): Promise<number[]> {
  const want = argv.join('\0') + '\0';
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd === want) out.push(Number(name));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agola serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agola-serve-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every component on an embedded etcd and stops them and etcd on SIGTERM', async () => {
    const p: Ports = {
      gateway: await getFreePort(),
      executor: await getFreePort(),
      configstore: await getFreePort(),
      runservice: await getFreePort(),
      scheduler: await getFreePort(),
      notification: await getFreePort(),
      gitserver: await getFreePort(),
    };
    const data = join(dir, 'all');
    const config = join(dir, 'all.yml');
    await writeFile(config, configText(data, p));
    const serve = spawnAgola(['serve', '--config', config, '--components', 'all-base,executor']);
    try {
      for (const port of Object.values(p)) {
        await waitHealthy(`http://127.0.0.1:${port}/health`, serve);
      }
      const version = await fetch(`http://127.0.0.1:${p.gateway}/api/v1alpha/version`);
      expect(version.status).toBe(200);
      expect(await version.json()).toMatchObject({ service: 'gateway' });

      const ready = serve
        .out()
        .split('\n')
        .filter((l) => l.includes('"embedded etcd ready"'))
        .map((l) => JSON.parse(l) as { etcdPid: number; endpoint: string; dataDir: string })
        .at(-1);
      expect(ready).toBeDefined();
      // the embedded etcd keeps its data beside the services' data dirs
      expect(ready!.dataDir).toBe(join(data, 'etcd'));
      const etcdPid = ready!.etcdPid;
      expect(etcdPid).toBeGreaterThan(0);
      expect(alive(etcdPid!)).toBe(true);

      serve.child.kill('SIGTERM');
      expect(await serve.exit).toBe(0);
      expect(alive(etcdPid!)).toBe(false);
      expect(serve.out()).toContain('"msg":"stopped"');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
  });

  async function etcdPidOf(serve: Spawned): Promise<number> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = serve
        .out()
        .split('\n')
        .filter((l) => l.includes('"embedded etcd ready"'))
        .map((l) => JSON.parse(l) as { etcdPid: number })
        .at(-1);
      if (ready) return ready.etcdPid;
      if (serve.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no embedded etcd: ${serve.err()}\n${serve.out().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function gone(pid: number): Promise<boolean> {
    // a zombie child still has a /proc entry: wait for its state to say so or for it to vanish
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
      if (status === undefined || /^State:\s+Z/m.test(status)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it.each([
    ['setpriv --pdeathsig', undefined],
    ['the watchdog (no setpriv on PATH)', 'etcd-only'],
  ])('a SIGKILLed agola serve leaves no etcd behind: %s', async (_name, pathKind) => {
    const port = await getFreePort();
    const base = join(dir, `kill-${pathKind ?? 'setpriv'}`);
    const config = join(dir, `kill-${pathKind ?? 'setpriv'}.yml`);
    await writeFile(
      config,
      `
configstore:
  dataDir: ${base}/configstore
  web: { listenAddress: 127.0.0.1:${port} }
  objectStorage: { type: posix, path: ${base}/ost }
`,
    );
    let env = process.env;
    if (pathKind) {
      // a PATH with etcd and nothing else
      const bin = join(base, 'bin');
      await mkdir(bin, { recursive: true });
      const { stdout } = await exec('sh', ['-c', 'command -v etcd']);
      await symlink(stdout.trim(), join(bin, 'etcd'));
      env = { ...process.env, PATH: bin };
    }
    const serve = spawnAgola(['serve', '--config', config, '--components', 'configstore'], env);
    let etcdPid: number | undefined;
    try {
      etcdPid = await etcdPidOf(serve);
      expect(alive(etcdPid)).toBe(true);
      const cmdline = await readFile(`/proc/${etcdPid}/cmdline`, 'utf8');
      // setpriv execs etcd: the pid is etcd's own
      expect(cmdline.split('\0')[0]).toMatch(/etcd$/);
      serve.child.kill('SIGKILL');
      await serve.exit;
      expect(await gone(etcdPid)).toBe(true);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
      if (etcdPid !== undefined && alive(etcdPid)) process.kill(etcdPid, 'SIGKILL');
    }
  });

  it('a user pushes a repo through the gateway to the git server and its direct run clones it and succeeds', async () => {
    const p: Ports = {
      gateway: await getFreePort(),
      executor: await getFreePort(),
      configstore: await getFreePort(),
      runservice: await getFreePort(),
      scheduler: await getFreePort(),
      notification: await getFreePort(),
      gitserver: await getFreePort(),
    };
    const config = join(dir, 'direct.yml');
    await writeFile(config, configText(join(dir, 'direct'), p));
    const serve = spawnAgola(['serve', '--config', config, '--components', 'all-base,executor']);
    const work = await mkdtemp(join(tmpdir(), 'agola-direct-work-'));
    const gw = `http://127.0.0.1:${p.gateway}`;
    const git = (args: string[]) =>
      exec('git', args, {
        cwd: work,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'A',
          GIT_AUTHOR_EMAIL: 'a@example.com',
          GIT_COMMITTER_NAME: 'A',
          GIT_COMMITTER_EMAIL: 'a@example.com',
          GIT_TERMINAL_PROMPT: '0',
        },
      });
    try {
      await waitHealthy(`${gw}/health`, serve);
      await waitHealthy(`http://127.0.0.1:${p.gitserver}/health`, serve);
      const admin = createGatewayClient({ baseUrl: gw, token: ADMIN_TOKEN });
      const alice = await admin.createUser('alice');
      const { token: aliceToken } = await admin.createUserToken('alice', 'git');
      await admin.createUser('bob');
      const { token: bobToken } = await admin.createUserToken('bob', 'git');

      const marker = `pushed-file-${randomUUID()}`;
      await mkdir(join(work, '.agola'), { recursive: true });
      await writeFile(join(work, 'message.txt'), `${marker}\n`);
      await writeFile(
        join(work, '.agola', 'config.yml'),
        `runs:
  - name: direct
    tasks:
      - name: show
        runtime: { containers: [{ image: busybox }] }
        steps:
          - clone:
          - run: cat message.txt
`,
      );
      await git(['init', '--quiet', '-b', 'main']);
      await git(['add', '-A']);
      await git(['commit', '--quiet', '-m', 'direct run']);
      const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();
      const uuid = randomUUID();
      const repoURL = new URL(`${gw}/repos/${alice.id}/${uuid}.git`);
      // another user cannot push to alice's path
      const asBob = new URL(repoURL);
      asBob.username = 'bob';
      asBob.password = bobToken;
      await expect(git(['push', '--quiet', asBob.toString(), 'main'])).rejects.toThrow(/403/);
      await expect(git(['push', '--quiet', repoURL.toString(), 'main'])).rejects.toThrow();
      const asAlice = new URL(repoURL);
      asAlice.username = 'alice';
      asAlice.password = aliceToken;
      await git(['push', '--quiet', asAlice.toString(), 'main']);
      expect(existsSync(join(dir, 'direct', 'gitserver', alice.id, `${uuid}.git`, 'HEAD'))).toBe(
        true,
      );

      const client = createGatewayClient({ baseUrl: gw, token: aliceToken });
      await client.userCreateRun({
        repo_uuid: uuid,
        repo_path: `${alice.id}/${uuid}`,
        branch: 'main',
        commit_sha: sha,
        message: 'direct run',
      });
      const owner = { kind: 'user' as const, ref: 'alice' };
      const deadline = Date.now() + 60_000;
      let run = await client.getRun(owner, 1);
      while (run.phase !== 'finished') {
        if (Date.now() > deadline) {
          throw new Error(`run not finished: ${JSON.stringify(run)}\n${serve.out().slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
        run = await client.getRun(owner, 1);
      }
      const task = Object.values(run.tasks).find((t) => t.name === 'show')!;
      const log = async (step: number) => {
        let text = '';
        for await (const chunk of await client.getLogs(owner, 1, task.id, { step })) {
          text += Buffer.from(chunk).toString('utf8');
        }
        return text;
      };
      if (run.result !== 'success') {
        // what failed, to read in the test's output
        const logs = await Promise.all(
          [-1, 0, 1].map((step) =>
            (step < 0
              ? (async () => {
                  let text = '';
                  for await (const c of await client.getLogs(owner, 1, task.id, { setup: true }))
                    text += Buffer.from(c).toString('utf8');
                  return text;
                })()
              : log(step)
            ).catch((err: unknown) => `(no log: ${String(err)})`),
          ),
        );
        expect.fail(
          `run ${run.result}: ${JSON.stringify(run.tasks)}\nsetup log:\n${logs[0]}\nclone log:\n${logs[1]}\nstep 1 log:\n${logs[2]}\n${serve.out().slice(-3000)}`,
        );
      }
      // the clone step cloned the pushed tree: the next step prints a file of it
      expect(await log(1)).toContain(marker);
      // the clone URL's token is masked in the clone step's log
      const cloneLog = await log(0);
      expect(cloneLog).toContain('git clone');
      expect(cloneLog).not.toContain('agola-clone:');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
      await serve.exit;
      await rm(work, { recursive: true, force: true });
    }
  });

  it('the quickstart (non-interactive) serves, creates a user and runs examples/hello as a direct run', async () => {
    const child = spawn(
      process.execPath,
      [QUICKSTART, '--exit', '--data-dir', join(dir, 'quickstart')],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toMatch(/gateway ready in \d+ ms at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/user demo created, with the token \S+/);
    // the untracked notes.txt of the scratch copy was cloned inside the run
    expect(out).toMatch(
      /^build +\| an untracked file: agola directrun start takes the work tree as it is\r?$/m,
    );
    expect(out).toMatch(/^build +\| dependencies fetched\r?$/m);
    // the workspace went from build to test to publish
    expect(out).toMatch(/^test +\| test passed: hello from agola-ts, built with lib 1\.0\r?$/m);
    expect(out).toMatch(
      /^publish +\| publishing to the terminal:\r?\npublish +\| hello from agola-ts, built with lib 1\.0\r?$/m,
    );
    expect(out).toMatch(/agola: run hello #1 success/);
    expect(out).toContain('examples/hello: the run succeeded');
    expect(out).toMatch(/API +http:\/\/127\.0\.0\.1:\d+\/api\/v1alpha/);
    expect(out).toContain('agola serve stopped (exit code 0)');
    expect(code).toBe(0);
  });

  it('SIGTERM during a running task stops the task and leaves no process behind', async () => {
    const p: Ports = {
      gateway: await getFreePort(),
      executor: await getFreePort(),
      configstore: await getFreePort(),
      runservice: await getFreePort(),
      scheduler: await getFreePort(),
      notification: await getFreePort(),
      gitserver: await getFreePort(),
    };
    const config = join(dir, 'term.yml');
    await writeFile(config, configText(join(dir, 'term'), p));
    const serve = spawnAgola(['serve', '--config', config, '--components', 'all-base,executor']);
    // a sleep no other process runs, so it can be found in /proc
    const sleepArgv = ['sleep', `${3000 + (process.pid % 1000)}.25`];
    try {
      await waitHealthy(`http://127.0.0.1:${p.gateway}/health`, serve);
      const { runs } = await planRunsFromFile({
        data: `runs:
  - name: long
    tasks:
      - name: wait
        runtime: { containers: [{ image: busybox }] }
        steps:
          - run: ${sleepArgv.join(' ')}
`,
        path: '.agola/config.yml',
        context: contextOfRef('refs/heads/main', '0'.repeat(40))!,
        variables: {},
        commitMessage: 'long',
      });
      const client = createRunserviceClient({
        baseUrl: `http://127.0.0.1:${p.runservice}/api/v1alpha`,
      });
      await client.createRun(plannedRunToCreateRequest(runs[0]!, { group: '/test/term' }));
      const deadline = Date.now() + 30_000;
      while ((await pidsOf(sleepArgv)).length === 0) {
        if (Date.now() > deadline)
          throw new Error(`the task never ran: ${serve.out().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      serve.child.kill('SIGTERM');
      expect(await serve.exit).toBe(0);
      expect(await pidsOf(sleepArgv)).toEqual([]);
      expect(serve.out()).toContain('"msg":"stopped"');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
      for (const pid of await pidsOf(sleepArgv)) process.kill(pid, 'SIGKILL');
    }
  });

  it('names every problem of a broken config file and exits 1', async () => {
    const config = join(dir, 'broken.yml');
    await writeFile(
      config,
      `
colour: blue
configstore:
  dataDir: ${dir}/b
  web: { listenAddress: nowhere }
  objectStorage: { type: posix, path: ${dir}/b/ost }
gateway:
  webExposedURL: http://127.0.0.1:1
`,
    );
    const proc = spawnAgola(['serve', '--config', config, '--components', 'configstore']);
    expect(await proc.exit).toBe(1);
    expect(proc.err()).toContain('colour: unknown key');

    await writeFile(
      config,
      `
configstore:
  dataDir: ${dir}/b
  web: { listenAddress: nowhere }
  objectStorage: { type: floppy }
gateway:
  webExposedURL: http://127.0.0.1:1
  web: { listenAddress: 127.0.0.1:1 }
  tokenSigning: { method: hmac, key: k }
`,
    );
    const proc2 = spawnAgola(['serve', '--config', config, '--components', 'all-base']);
    expect(await proc2.exit).toBe(1);
    const err = proc2.err();
    expect(err).toContain('configstore.web.listenAddress');
    expect(err).toContain('configstore.objectStorage.type');
    expect(err).toContain('gateway.apiExposedURL');
    expect(err).toContain('runservice');
    // all-base has the gitserver and the notification service: their sections are required
    expect(err).toContain('gitserver');
    expect(err).toContain('notification');
    // nothing was started
    expect(proc2.out()).not.toContain('"msg":"started"');
  });

  it('refuses unknown components and a missing etcd binary with what to do', async () => {
    const bad = spawnAgola([
      'serve',
      '--config',
      '/nonexistent.yml',
      '--components',
      'gw,gateway,gitsrv',
    ]);
    expect(await bad.exit).toBe(1);
    expect(bad.err()).toContain('unknown component "gw"');
    expect(bad.err()).toContain('unknown component "gitsrv"');
    expect(bad.err()).not.toContain('"gateway"');

    const config = join(dir, 'noetcd.yml');
    const port = await getFreePort();
    await writeFile(
      config,
      `
configstore:
  dataDir: ${dir}/n/configstore
  web: { listenAddress: 127.0.0.1:${port} }
  objectStorage: { type: posix, path: ${dir}/n/ost }
`,
    );
    const noEtcd = spawnAgola(['serve', '--config', config, '--components', 'configstore'], {
      ...process.env,
      PATH: join(dir, 'empty-path'),
    });
    expect(await noEtcd.exit).toBe(1);
    expect(noEtcd.err()).toContain('etcd-server');
    expect(noEtcd.err()).toContain('ERR_AGOLA_ETCD_MISSING');
  });
});

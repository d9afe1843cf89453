import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOfRef, planRunsFromFile } from '@agola-ts/runconfig';
import { createRunserviceClient, plannedRunToCreateRequest } from '@agola-ts/runservice-client';
import { getFreePort } from '@agola-ts/testkit';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '../dist/main.js');
// `npm run quickstart`'s last part, run here non-interactively so the quickstart cannot rot
const QUICKSTART = join(here, '../../../tools/quickstart/quickstart.mjs');

interface Ports {
  gateway: number;
  executor: number;
  configstore: number;
  runservice: number;
  scheduler: number;
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
scheduler:
  runserviceURL: ${rs}
  web: { listenAddress: 127.0.0.1:${p.scheduler} }
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
  const child = spawn(process.execPath, [MAIN, ...args], {
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
    // nothing was started
    expect(proc2.out()).not.toContain('"msg":"started"');
  });

  it('refuses unknown components and a missing etcd binary with what to do', async () => {
    const bad = spawnAgola([
      'serve',
      '--config',
      '/nonexistent.yml',
      '--components',
      'gw,notification',
    ]);
    expect(await bad.exit).toBe(1);
    expect(bad.err()).toContain('unknown component "gw"');
    expect(bad.err()).toContain('notification is not available');

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

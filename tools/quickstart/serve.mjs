// The quickstart's pieces: `agola serve` with every component on embedded defaults (an
// embedded etcd, posix storage, the local executor, the git server), a user with a token, and
// examples/hello run from a scratch copy of it through `agola directrun start`.
// Used by tools/quickstart/quickstart.mjs and by the test of apps/agola (so it cannot rot).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createGatewayClient } from '@agola-ts/gateway-client';

const here = dirname(fileURLToPath(import.meta.url));
/** The built `agola` command. */
/** The `agola` bin (it gives `serve` its 16 libuv pool threads, then loads main.js). */
export const AGOLA_BIN = join(here, '../../apps/agola/dist/agola.cjs');
/** The example repository the quickstart runs. */
export const HELLO_DIR = join(here, '../../examples/hello');

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Agola's config file for every component on loopback ports, data under `dataDir`. */
export function serveConfig(dataDir, p, adminToken) {
  const rs = `http://127.0.0.1:${p.runservice}`;
  const gw = `http://127.0.0.1:${p.gateway}`;
  return `# written by the quickstart: every component, embedded etcd (no etcd endpoints),
# posix object storage, the local executor driver (no isolation: trusted code only)
gateway:
  apiExposedURL: ${gw}
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p.configstore}
  gitserverURL: http://127.0.0.1:${p.gitserver}
  web:
    listenAddress: 127.0.0.1:${p.gateway}
  tokenSigning:
    method: hmac
    key: ${randomBytes(32).toString('hex')}
  adminToken: ${adminToken}
scheduler:
  runserviceURL: ${rs}
notification:
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p.configstore}
configstore:
  dataDir: ${dataDir}/configstore
  web:
    listenAddress: 127.0.0.1:${p.configstore}
  objectStorage:
    type: posix
    path: ${dataDir}/configstore/ost
runservice:
  dataDir: ${dataDir}/runservice
  web:
    listenAddress: 127.0.0.1:${p.runservice}
  objectStorage:
    type: posix
    path: ${dataDir}/runservice/ost
executor:
  dataDir: ${dataDir}/executor
  runserviceURL: ${rs}
  web:
    listenAddress: 127.0.0.1:${p.executor}
  driver:
    type: local
gitserver:
  dataDir: ${dataDir}/gitserver
  web:
    listenAddress: 127.0.0.1:${p.gitserver}
`;
}

/**
 * Writes the config (with a new admin token) into `dataDir` and starts
 * `agola serve --components all-base,executor` as a child process; resolves once the gateway
 * answers /health.
 * @param {{ dataDir: string, write?: (text: string) => void }} o
 */
export async function startServe(o) {
  const write = o.write ?? (() => {});
  await mkdir(o.dataDir, { recursive: true });
  const ports = {
    gateway: await freePort(),
    configstore: await freePort(),
    runservice: await freePort(),
    executor: await freePort(),
    gitserver: await freePort(),
  };
  const adminToken = randomBytes(24).toString('hex');
  const configPath = join(o.dataDir, 'config.yml');
  await writeFile(configPath, serveConfig(o.dataDir, ports, adminToken), { mode: 0o600 });
  const logPath = join(o.dataDir, 'serve.log');
  const log = createWriteStream(logPath);
  const args = ['serve', '--config', configPath, '--components', 'all-base,executor'];
  write(`$ agola ${args.join(' ')}\n  (its log: ${logPath})\n`);
  const started = Date.now();
  const child = spawn(process.execPath, [AGOLA_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.pipe(log);
  child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exit;
    log.end();
    return code;
  };
  const gatewayURL = `http://127.0.0.1:${ports.gateway}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`agola serve exited: ${stderr.trim()}`);
      if (Date.now() - started > 30_000) throw new Error('agola serve is not ready after 30 s');
      const ok = await fetch(`${gatewayURL}/health`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gatewayURL,
    urls: {
      gateway: gatewayURL,
      api: `${gatewayURL}/api/v1alpha`,
      configstore: `http://127.0.0.1:${ports.configstore}`,
      runservice: `http://127.0.0.1:${ports.runservice}`,
      executor: `http://127.0.0.1:${ports.executor}`,
      gitserver: `http://127.0.0.1:${ports.gitserver}`,
    },
    adminToken,
    configPath,
    logPath,
    coldStartMs: Date.now() - started,
    exit,
    stop,
  };
}

/**
 * Creates a user and a token for it with the admin token.
 * @returns {Promise<{ username: string, userId: string, token: string }>}
 */
export async function createUserWithToken(gatewayURL, adminToken, username) {
  const admin = createGatewayClient({ baseUrl: gatewayURL, token: adminToken });
  const user = await admin.createUser(username);
  const { token } = await admin.createUserToken(username, 'quickstart');
  return { username, userId: user.id, token };
}

/**
 * A scratch copy of examples/hello as a new git repository with nothing committed (a direct
 * run takes the work tree as it is) and a `notes.txt` that is not even tracked.
 */
export async function prepareHello(dir) {
  await rm(dir, { recursive: true, force: true });
  await cp(HELLO_DIR, dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  await writeFile(
    join(dir, 'notes.txt'),
    'an untracked file: agola directrun start takes the work tree as it is\n',
  );
  return dir;
}

/**
 * Runs `agola directrun start` in `repoDir` against the gateway, the token in AGOLA_TOKEN
 * (never on the command line). With `inherit`, its output goes straight to this terminal
 * (live progress line and all); else it is captured.
 * @param {{ gatewayURL: string, token: string, repoDir: string, args?: string[], inherit?: boolean, write?: (t: string) => void }} o
 * @returns {Promise<{ exitCode: number | null, stdout: string, stderr: string }>}
 */
export function directrun(o) {
  const args = ['directrun', 'start', '--gateway-url', o.gatewayURL, ...(o.args ?? [])];
  (o.write ?? (() => {}))(`$ cd ${o.repoDir} && agola ${args.join(' ')}\n`);
  const child = spawn(process.execPath, [AGOLA_BIN, ...args], {
    cwd: o.repoDir,
    env: { ...process.env, AGOLA_TOKEN: o.token },
    stdio: o.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c.toString('utf8');
    o.write?.(c.toString('utf8'));
  });
  child.stderr?.on('data', (c) => {
    stderr += c.toString('utf8');
    o.write?.(c.toString('utf8'));
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

/**
 * The quickstart's pipeline: serve, a user and token, examples/hello as a direct run. Leaves
 * serve running (the caller stops it with `serve.stop()`).
 * @param {{ dataDir: string, write?: (text: string) => void, inherit?: boolean }} o
 */
export async function quickstart(o) {
  const write = o.write ?? (() => {});
  const serve = await startServe({ dataDir: o.dataDir, write });
  try {
    const version = await (await fetch(`${serve.urls.api}/version`)).json();
    write(
      `gateway ready in ${serve.coldStartMs} ms at ${serve.gatewayURL} (version ${version.version})\n`,
    );
    const user = await createUserWithToken(serve.gatewayURL, serve.adminToken, 'demo');
    write(`user ${user.username} created, with the token ${user.token}\n\n`);
    const repoDir = await prepareHello(join(o.dataDir, 'hello'));
    const run = await directrun({
      gatewayURL: serve.gatewayURL,
      token: user.token,
      repoDir,
      inherit: o.inherit,
      ...(o.inherit ? {} : { write }),
    });
    const m = /first log line ([\d.]+) s after the push/.exec(run.stderr);
    return {
      serve,
      user,
      repoDir,
      run,
      firstLogMs: m ? Math.round(Number(m[1]) * 1000) : undefined,
    };
  } catch (err) {
    await serve.stop();
    throw err;
  }
}

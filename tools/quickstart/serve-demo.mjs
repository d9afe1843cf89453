// The `agola serve` part of the quickstart: writes a config for every component on embedded
// defaults (an embedded etcd, posix storage, the local executor) into a data dir, starts
// `agola serve` as a child process, runs examples/hello on it and stops it with SIGTERM.
// Used by tools/quickstart/demo.mjs and by the test of apps/agola (so it cannot rot).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHello } from './hello-run.mjs';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../../apps/agola/dist/main.js');

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
export function serveConfig(dataDir, p) {
  const rs = `http://127.0.0.1:${p.runservice}`;
  const gw = `http://127.0.0.1:${p.gateway}`;
  return `# written by the quickstart: every component, embedded etcd (no etcd endpoints),
# posix object storage, the local executor driver (no isolation: trusted code only)
gateway:
  apiExposedURL: ${gw}
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p.configstore}
  web:
    listenAddress: 127.0.0.1:${p.gateway}
  tokenSigning:
    method: hmac
    key: quickstart-only-signing-key-${process.pid}-${Date.now()}
scheduler:
  runserviceURL: ${rs}
notification:
  webExposedURL: ${gw}
  runserviceURL: ${rs}
  configstoreURL: http://127.0.0.1:${p.configstore}
gitserver:
  dataDir: ${dataDir}/gitserver
  web:
    listenAddress: 127.0.0.1:${p.gitserver}
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
`;
}

/**
 * Starts `agola serve` (all components) in `dataDir`, runs examples/hello, stops serve.
 * @param {{ dataDir: string, write?: (text: string) => void }} o
 */
export async function serveDemo(o) {
  const write = o.write ?? (() => {});
  await mkdir(o.dataDir, { recursive: true });
  const ports = {
    gateway: await freePort(),
    configstore: await freePort(),
    runservice: await freePort(),
    executor: await freePort(),
    gitserver: await freePort(),
  };
  const configPath = join(o.dataDir, 'config.yml');
  await writeFile(configPath, serveConfig(o.dataDir, ports));
  const logPath = join(o.dataDir, 'serve.log');
  const log = createWriteStream(logPath);
  const args = ['serve', '--config', configPath, '--components', 'all-base,executor'];
  write(`$ agola ${args.join(' ')}\n  (its log: ${logPath})\n`);
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.pipe(log);
  child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`agola serve exited: ${stderr.trim()}`);
      if (Date.now() - started > 30_000) throw new Error('agola serve is not ready after 30 s');
      const ok = await fetch(`${gateway}/health`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const coldStartMs = Date.now() - started;
    const version = await (await fetch(`${gateway}/api/v1alpha/version`)).json();
    write(`gateway ready in ${coldStartMs} ms at ${gateway} (version ${version.version})\n`);
    const page = await fetch(`${gateway}/`).catch(() => undefined);
    if (page?.ok && (page.headers.get('content-type') ?? '').startsWith('text/html')) {
      write(`  web UI: ${gateway}/\n`);
    }
    write(
      `  configstore http://127.0.0.1:${ports.configstore}  runservice http://127.0.0.1:${ports.runservice}  executor http://127.0.0.1:${ports.executor}\n`,
    );
    write(
      '\nexamples/hello: the gateway creates runs from a push or a direct run, and both need the\n' +
        'git server, which Agola-TS does not have yet. So the quickstart plans\n' +
        'examples/hello/.agola/config.yml with @agola-ts/runconfig and posts the run straight to\n' +
        "the runservice; hello's tasks have no clone step (there is nothing to clone from).\n",
    );
    const run = await runHello({ runserviceURL: `http://127.0.0.1:${ports.runservice}`, write });
    write(`first log line ${run.firstLogMs} ms after the run was posted\n`);
    child.kill('SIGTERM');
    const code = await exit;
    write(`agola serve stopped (exit code ${code})\n`);
    return { ...run, coldStartMs, exitCode: code };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exit;
    }
    log.end();
  }
}

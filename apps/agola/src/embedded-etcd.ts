import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { newError } from '@agola-ts/errors';
import type { ServiceLogger } from '@agola-ts/service-kit';
import { AgolaAppErrorCodes } from './codes.js';

/** Options of {@link startEmbeddedEtcd}. */
export interface EmbeddedEtcdOptions {
  /** Where etcd keeps its data (created if missing). */
  dataDir: string;
  /** Client port. @default a free port */
  clientPort?: number;
  /** Peer port. @default a free port */
  peerPort?: number;
  /** The etcd executable. @default `etcd` on PATH */
  binary?: string;
  /**
   * Use util-linux `setpriv --pdeathsig KILL` (when on PATH) so etcd dies with this process;
   * `false` uses the watchdog instead (tests). @default true
   */
  setpriv?: boolean;
  /** How long to wait for `/health`. @default 15000 */
  readyTimeoutMs?: number;
  logger: ServiceLogger;
}

/** A running embedded etcd child process. */
export interface EmbeddedEtcd {
  /** Client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Process id of the etcd child. */
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child exited. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL = 8 * 1024;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A detached shell that SIGKILLs `pid` once this process is gone (and exits when `pid` is): the
 * fallback of `setpriv --pdeathsig` for etcd.
 */
function startWatchdog(pid: number, logger: ServiceLogger): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null`;
  try {
    const dog = spawn('/bin/sh', ['-c', script], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    dog.on('error', (err) => logger.warn({ err }, 'the embedded etcd watchdog could not start'));
    dog.unref();
  } catch (err) {
    logger.warn({ err }, 'the embedded etcd watchdog could not start');
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts etcd as a child process on loopback (data under `dataDir`) and waits until it
 * answers `/health`.
 *
 * @throws `ERR_AGOLA_ETCD_MISSING` when the binary is not installed (Debian package
 *   `etcd-server`), `ERR_AGOLA_ETCD_START` with etcd's output when it does not come up.
 * @example
 * ```ts
 * const etcd = await startEmbeddedEtcd({ dataDir: '/var/lib/agola/etcd', logger });
 * // ... etcd.endpoint
 * await etcd.stop();
 * ```
 */
export async function startEmbeddedEtcd(options: EmbeddedEtcdOptions): Promise<EmbeddedEtcd> {
  const binary = options.binary ?? findOnPath('etcd');
  if (binary === undefined) {
    throw newError(
      'the embedded etcd needs the etcd binary, which is not on PATH: install the Debian package etcd-server (apt-get install etcd-server) or configure etcd endpoints',
      { code: AgolaAppErrorCodes.EtcdMissing },
    );
  }
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = options.peerPort ?? (await freePort());
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let tail = '';
  const etcdArgs = [
    '--name=agola',
    `--data-dir=${options.dataDir}`,
    '--logger=zap',
    '--log-level=warn',
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=agola=${peer}`,
  ];
  // etcd must not outlive agola serve, even when serve is SIGKILLed: setpriv (util-linux) sets
  // the parent-death signal and execs etcd (same pid); without setpriv, a watchdog kills it
  const setpriv = options.setpriv === false ? undefined : findOnPath('setpriv');
  const child: ChildProcess = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...etcdArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(binary, etcdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (!setpriv && child.pid !== undefined) startWatchdog(child.pid, options.logger);
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      tail += `\nspawn error: ${err.message}`;
      exited = true;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exited = true;
      options.logger.info({ code, signal }, 'embedded etcd exited');
      resolve();
    });
  });
  const stop = async (graceMs = 5000) => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (exited) {
      throw newError(`the embedded etcd exited during start: ${tail.trim()}`, {
        code: AgolaAppErrorCodes.EtcdStart,
      });
    }
    const ok = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw newError(`the embedded etcd is not ready after its timeout: ${tail.trim()}`, {
        code: AgolaAppErrorCodes.EtcdStart,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  options.logger.info(
    { endpoint, dataDir: options.dataDir, etcdPid: child.pid },
    'embedded etcd ready',
  );
  return { endpoint, pid: child.pid, stop };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { ManagedProcess } from './managed-process.js';
import { getFreePort } from './ports.js';

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /** Path of the etcd executable. @default the `etcd` on PATH (Debian etcd-server 3.4) */
  binary?: string;
  /** How long to wait for `/health`. @default 15000 */
  readyTimeoutMs?: number;
}

/** A throwaway etcd server on loopback with its data in a temp dir. */
export interface EtcdServer {
  /** Client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Temp dir holding `data/` and `etcd.log`. */
  readonly dir: string;
  /** The last output of the server process. */
  output(): string;
  /** True while the process runs. */
  readonly running: boolean;
  /** Kills the process at once (like a crash); the data stays, {@link start} brings it back. */
  kill(): Promise<void>;
  /** Starts it again on the same ports after {@link kill} or {@link restart}. */
  start(): Promise<void>;
  /**
   * Stops and starts it on the same ports. With `wipe`, its data is deleted in between: a
   * new, empty etcd (what the datamanager must survive).
   */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** Stops it and deletes its temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts etcd on free loopback ports with its data in a new temp dir, and waits until it
 * answers `/health`.
 *
 * @throws `ERR_TESTKIT_BINARY_MISSING` when etcd is not installed,
 *   `ERR_TESTKIT_START_FAILED` (with its output) when it does not come up.
 * @example
 * ```ts
 * const etcd = await startEtcd();
 * // ... new Etcd3({ hosts: etcd.endpoint })
 * await etcd.stop();
 * ```
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary =
    options.binary ?? findBinary('etcd', 'install Debian package etcd-server (npm test does)');
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const dir = await mkdtemp(join(tmpdir(), 'agola-testkit-etcd-'));
  const dataDir = join(dir, 'data');

  let lastError: unknown;
  // A free port can be taken between the probe and etcd's bind: retry with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const clientPort = await getFreePort();
    const peerPort = await getFreePort();
    const endpoint = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const proc = new ManagedProcess({
      name: 'etcd',
      command: binary,
      logFile: join(dir, 'etcd.log'),
      args: [
        '--name=testkit',
        `--data-dir=${dataDir}`,
        '--logger=zap',
        '--log-level=warn',
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=testkit=${peer}`,
      ],
    });
    const up = async () => {
      proc.start();
      await proc.waitReady(async () => {
        const res = await fetch(`${endpoint}/health`);
        const body = (await res.json()) as { health?: string };
        return res.ok && body.health === 'true';
      }, readyTimeoutMs);
    };
    try {
      await up();
    } catch (err) {
      lastError = err;
      await proc.kill();
      await rm(dataDir, { recursive: true, force: true });
      continue;
    }
    return {
      endpoint,
      dir,
      output: () => proc.output(),
      get running() {
        return proc.running;
      },
      kill: () => proc.kill(),
      start: up,
      async restart(opts = {}) {
        await proc.stop();
        if (opts.wipe) await rm(dataDir, { recursive: true, force: true });
        await up();
      },
      async stop() {
        await proc.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  // The temp dir (with etcd.log) is kept so the failure can be looked into.
  throw lastError;
}

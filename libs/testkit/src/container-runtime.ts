import { spawn } from 'node:child_process';
import {
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';
import { findBinary } from './find-binary.js';
import { ManagedProcess } from './managed-process.js';

/**
 * Name of the local busybox image {@link startContainerRuntime} imports. Its tag is not
 * `latest`, so a driver does not try to pull it (no registry is reachable); the same image
 * is also tagged `latest` for tests of that rule.
 */
export const TEST_BUSYBOX_IMAGE = 'localhost/agola-testkit-busybox:v1';

/** Options of {@link startContainerRuntime}. */
export interface StartContainerRuntimeOptions {
  /** Path of the busybox binary to build the image from. @default `/bin/busybox` (Debian busybox-static) */
  busybox?: string;
  /** How long to wait for the API socket. @default 20000 */
  readyTimeoutMs?: number;
}

/**
 * A throwaway podman: its Docker-compatible API on a unix socket, with its own image and
 * container storage in a temp dir (nothing is shared with the machine's podman), runc as
 * the OCI runtime, and a local busybox image.
 */
export interface ContainerRuntime {
  /** Path of the Docker-compatible API socket (`new Docker({ socketPath })`). */
  readonly socketPath: string;
  /** A local image with busybox's applets (sh, ls, cat, sleep, id, ...), users root and nobody. */
  readonly busyboxImage: string;
  /** Temp dir holding the storage, `containers.conf`, the socket and `podman.log`. */
  readonly dir: string;
  /**
   * Runs the podman CLI against this runtime's storage (e.g. `['images']`) and returns its
   * stdout.
   * @throws `ERR_TESTKIT_START_FAILED` with its output when it exits non-zero.
   */
  podman(args: string[], stdin?: Buffer): Promise<string>;
  /** The last output of the API service. */
  output(): string;
  /** Removes every container, stops the service and deletes the temp dir. */
  stop(): Promise<void>;
}

// runc, not crun: crun fails on these VMs (no CAP_SYS_RESOURCE for its rlimits, hybrid
// cgroups). The ulimits stay within the VM's hard limits (nofile 20000).
const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          newError(
            `${command} ${args.join(' ')} exited with ${String(code)}: ${Buffer.concat(err).toString('utf8').trim()}`,
            { code: TestkitErrorCodes.StartFailed },
          ),
        );
    });
    child.stdin.end(stdin);
  });
}

/** Builds a busybox root filesystem: the static binary plus a symlink per applet. */
async function buildBusyboxRootfs(busybox: string, root: string, env: NodeJS.ProcessEnv) {
  await mkdir(join(root, 'bin'), { recursive: true });
  for (const d of ['tmp', 'root', 'etc', 'home/nobody'])
    await mkdir(join(root, d), { recursive: true });
  await copyFile(busybox, join(root, 'bin', 'busybox'));
  const applets = (await run(busybox, ['--list'], env)).split('\n').filter(Boolean);
  for (const applet of applets) {
    // Linking the `busybox` applet would replace the binary by a link to itself.
    if (applet === 'busybox' || applet.includes('/')) continue;
    await symlink('busybox', join(root, 'bin', applet));
  }
  await writeFile(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home/nobody:/bin/sh\n',
  );
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  // nobody owns its home, as a real image's user does (steps as a non-root user write there).
  await chown(join(root, 'home', 'nobody'), 65534, 65534);
}

/** Pids of processes whose command line mentions `text` (this runtime's unique dir). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(name));
  }
  return pids;
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * Starts podman's Docker-compatible API service (`podman system service`) on a unix socket
 * in a new temp dir, with its own storage there and runc as the runtime, and imports a local
 * busybox image built from Debian's busybox-static (no registry is needed). Use it per suite
 * or through the global setup `@agola-ts/testkit/container-global-setup`.
 *
 * @throws `ERR_TESTKIT_BINARY_MISSING` when podman, runc or busybox-static is not installed,
 *   `ERR_TESTKIT_START_FAILED` (with the output) when the image import or the service fails.
 * @example
 * ```ts
 * const rt = await startContainerRuntime();
 * const docker = new Docker({ socketPath: rt.socketPath });
 * // ... docker.createContainer({ Image: rt.busyboxImage, Cmd: ['echo', 'hi'] })
 * await rt.stop();
 * ```
 */
export async function startContainerRuntime(
  options: StartContainerRuntimeOptions = {},
): Promise<ContainerRuntime> {
  const hint = 'install Debian packages podman runc busybox-static (npm test does)';
  const podman = findBinary('podman', hint);
  findBinary('runc', hint);
  const busybox = options.busybox ?? '/bin/busybox';
  try {
    await run(busybox, ['true'], process.env);
  } catch (err) {
    throw newError(`${busybox} cannot run (${String(err)}): ${hint}`, {
      code: TestkitErrorCodes.BinaryMissing,
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'agola-testkit-podman-'));
  const confPath = join(dir, 'containers.conf');
  await writeFile(confPath, CONTAINERS_CONF);
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: confPath, TMPDIR: dir };
  const storage = [
    '--root',
    join(dir, 'storage'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
  ];
  const podmanCli = (args: string[], stdin?: Buffer) =>
    run(podman, [...storage, ...args], env, stdin);

  const rootfs = join(dir, 'rootfs');
  await buildBusyboxRootfs(busybox, rootfs, env);
  const tarball = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`tar exited ${code}`)),
    );
  });
  await podmanCli(['import', '--quiet', '-', TEST_BUSYBOX_IMAGE], tarball);
  await podmanCli(['tag', TEST_BUSYBOX_IMAGE, TEST_BUSYBOX_IMAGE.replace(/:v1$/, ':latest')]);
  await rm(rootfs, { recursive: true, force: true });

  const socketPath = join(dir, 'podman.sock');
  const proc = new ManagedProcess({
    name: 'podman',
    command: podman,
    args: [...storage, 'system', 'service', '--time=0', `unix://${socketPath}`],
    logFile: join(dir, 'podman.log'),
    env,
  });
  proc.start();
  try {
    await proc.waitReady(() => ping(socketPath), options.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return {
    socketPath,
    busyboxImage: TEST_BUSYBOX_IMAGE,
    dir,
    podman: podmanCli,
    output: () => proc.output(),
    async stop() {
      await podmanCli(['rm', '--all', '--force', '--time', '0']).catch(() => undefined);
      await podmanCli(['volume', 'prune', '--force']).catch(() => undefined);
      await proc.stop();
      // conmon keeps a process per exec for 5 minutes (Docker's exec-inspect window, podman's
      // exit_command_delay, which the API needs): end those this runtime started.
      // Their cleanup may spawn more (`podman container cleanup`): repeat until none is left.
      for (let round = 0; round < 50; round++) {
        const pids = await processesMentioning(dir);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // podman's overlay driver bind-mounts its storage dir onto itself: unmount what is left
      // under the temp dir (deepest first), then delete it.
      const mounts = (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''))
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) await run('umount', [m], process.env).catch(() => undefined);
      // A mount still held would make this fail: keep the dir rather than fail teardown.
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch(
        () => undefined,
      );
    },
  };
}

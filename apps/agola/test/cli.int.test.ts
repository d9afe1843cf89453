import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient } from '@agola-ts/gateway-client';
import { contextOfRef, planRunsFromFile } from '@agola-ts/runconfig';
import { createRunserviceClient, plannedRunToCreateRequest } from '@agola-ts/runservice-client';
import { getFreePort, startForge, type Forge } from '@agola-ts/testkit';

// The CLI commands against a real `agola serve` (every component, embedded etcd), each
// command run as its own process, as a user runs it.

const here = dirname(fileURLToPath(import.meta.url));
// the bin (not main.js): `serve` gets its 16 libuv pool threads as a user's does
const AGOLA_BIN = join(here, '../dist/agola.cjs');
const ADMIN_TOKEN = 'cli-test-admin-token-3f9c1b7e';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let serve: ChildProcess;
let forge: Forge | undefined;
let serveOut = '';
let gatewayURL: string;
let runserviceURL: string;
/** Every output of every CLI process, to check that no token leaks. */
const outputs: { args: string[]; out: string; err: string }[] = [];

/** Runs `agola <args>` against the test gateway. */
function agola(
  args: string[],
  o: { token?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGOLA_BIN, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '',
        AGOLA_GATEWAY_URL: gatewayURL,
        ...(o.token ? { AGOLA_TOKEN: o.token } : {}),
        ...o.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin!.end(o.stdin ?? '');
    child.on('close', (code) => {
      outputs.push({ args, out: stdout, err: stderr });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like {@link agola}, expecting exit code 0. */
async function ok(args: string[], o: Parameters<typeof agola>[1] = {}): Promise<string> {
  const r = await agola(args, o);
  if (r.code !== 0) {
    throw new Error(`agola ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/**
 * Runs `agola <args> --json` (exit 0 expected) and parses its stdout. With `until`, runs it
 * again (every 200 ms, up to `timeoutMs`) until `until(result)` holds, and fails with the
 * last result when it never does.
 */
async function json<T>(
  args: string[],
  o: Parameters<typeof agola>[1] & { until?: (v: T) => boolean; timeoutMs?: number } = {},
): Promise<T> {
  const once = async () => JSON.parse(await ok([...args, '--json'], o)) as T;
  const { until } = o;
  if (!until) return once();
  return eventually(async () => {
    const v = await once();
    if (!until(v)) throw new Error(`agola ${args.join(' ')}: not yet: ${JSON.stringify(v)}`);
    return v;
  }, o.timeoutMs);
}

/** `agola run show` of alice's run `n`, as JSON (see {@link json} for `until`). */
function aliceRun<T extends { phase: string }>(
  n: number,
  token: string,
  o: { until?: (r: T) => boolean; timeoutMs?: number } = {},
): Promise<T> {
  return json<T>(['run', 'show', '--username', 'alice', '--runnumber', String(n)], {
    token,
    ...o,
  });
}

/** The start index of each column of a table's lines, from its header. */
function columnStarts(header: string): number[] {
  const starts: number[] = [];
  for (const m of header.matchAll(/(?:^|\s{2})(\S)/g)) starts.push(m.index + m[0].length - 1);
  return starts;
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agola-cli-'));
  const port = {
    gateway: await getFreePort(),
    executor: await getFreePort(),
    configstore: await getFreePort(),
    runservice: await getFreePort(),
    scheduler: await getFreePort(),
  };
  gatewayURL = `http://127.0.0.1:${port.gateway}`;
  runserviceURL = `http://127.0.0.1:${port.runservice}`;
  const cs = `http://127.0.0.1:${port.configstore}`;
  const data = join(dir, 'data');
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `
gateway:
  apiExposedURL: ${gatewayURL}
  webExposedURL: ${gatewayURL}
  runserviceURL: ${runserviceURL}
  configstoreURL: ${cs}
  web: { listenAddress: 127.0.0.1:${port.gateway} }
  tokenSigning: { method: hmac, key: cli-test-signing-key-0123456789 }
  adminToken: ${ADMIN_TOKEN}
scheduler:
  runserviceURL: ${runserviceURL}
  web: { listenAddress: 127.0.0.1:${port.scheduler} }
notification:
  webExposedURL: ${gatewayURL}
  runserviceURL: ${runserviceURL}
  configstoreURL: ${cs}
configstore:
  dataDir: ${data}/configstore
  web: { listenAddress: 127.0.0.1:${port.configstore} }
  objectStorage: { type: posix, path: ${data}/configstore/ost }
runservice:
  dataDir: ${data}/runservice
  web: { listenAddress: 127.0.0.1:${port.runservice} }
  objectStorage: { type: posix, path: ${data}/runservice/ost }
executor:
  dataDir: ${data}/executor
  runserviceURL: ${runserviceURL}
  web: { listenAddress: 127.0.0.1:${port.executor} }
  driver: { type: local }
gitserver:
  dataDir: ${data}/gitserver
  web: { listenAddress: '127.0.0.1:0' }
`,
  );
  serve = spawn(
    process.execPath,
    [
      AGOLA_BIN,
      'serve',
      '--config',
      config,
      '--components',
      'all-base,executor',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  serve.stdout!.on('data', (c: Buffer) => (serveOut += c.toString('utf8')));
  serve.stderr!.on('data', (c: Buffer) => (serveOut += c.toString('utf8')));
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (serve.exitCode !== null) throw new Error(`agola serve exited: ${serveOut}`);
    const healthy = await Promise.all(
      [gatewayURL, runserviceURL, cs, `http://127.0.0.1:${port.executor}`].map((u) =>
        fetch(`${u}/health`)
          .then((r) => r.ok)
          .catch(() => false),
      ),
    );
    if (healthy.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error(`agola serve not healthy: ${serveOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  await forge?.stop();
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (serve.exitCode === null) serve.kill('SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

// every command is a process start: on a loaded machine each takes a second or more
describe('agola CLI against agola serve', { timeout: 300_000 }, () => {
  let aliceToken = '';
  let aliceId = '';

  it('version: the client and the gateway, as text and --json', async () => {
    const text = await ok(['version']);
    expect(text).toMatch(/^client version:\s+\d+\.\d+\.\d+\ngateway version: \d+\.\d+\.\d+\n$/);
    // --debug: each request on stderr, with neither the token nor the query
    const debug = await agola(['version', '-d', '--token', ADMIN_TOKEN]);
    expect(debug.code).toBe(0);
    expect(debug.stderr).toMatch(/^agola debug: GET \/api\/v1alpha\/version -> 200 \(\d+ ms\)\n$/);
    const v = await json<{ client_version: string; server_version: string }>(['version']);
    expect(v.server_version).toMatch(/^\d+\.\d+\.\d+$/);
    // the gateway URL flag wins over the env var
    const closed = await getFreePort();
    const bad = await agola(['version', '--gateway-url', `http://127.0.0.1:${closed}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^agola: gateway GET \/version \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/,
    );
  });

  it('users and tokens: create, list as a table and as JSON', async () => {
    const created = await ok(['user', 'create', '--username', 'alice'], { token: ADMIN_TOKEN });
    expect(created).toMatch(/^id:\s+\S+\nusername:\s+alice\n/m);
    await ok(['user', 'create', '-n', 'bob'], { token: ADMIN_TOKEN });

    aliceToken = (
      await ok(['user', 'token', 'create', '-n', 'alice', '--tokenname', 'cli'], {
        token: ADMIN_TOKEN,
      })
    ).trim();
    expect(aliceToken).toMatch(/^\S{20,}$/);

    const table = await ok(['user', 'list'], { token: ADMIN_TOKEN });
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USERNAME\s+TOKENS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['alice', 'bob']);
    // aligned: every row's username starts under the header's
    const [, userCol] = columnStarts(lines[0]!);
    for (const l of lines.slice(1)) expect(l.slice(userCol!, userCol! + 3)).toMatch(/^(ali|bob)$/);
    expect(lines[1]).toMatch(/\scli$/);

    const users = await json<{ id: string; username: string; tokens: string[] }[]>(
      ['user', 'list'],
      {
        token: ADMIN_TOKEN,
      },
    );
    expect(users.map((u) => u.username)).toEqual(['alice', 'bob']);
    expect(users[0]!.tokens).toEqual(['cli']);
    aliceId = users[0]!.id;

    // a user's own token works; listing users needs the admin
    const denied = await agola(['user', 'list'], { token: aliceToken });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^agola: .*\(403 ERR_GATEWAY_FORBIDDEN\)\n$/);
  });

  it('orgs and members; project groups; secrets and variables from a YAML file and stdin', async () => {
    await ok(['org', 'create', '--name', 'acme', '--visibility', 'private'], { token: aliceToken });
    const added = await ok(
      ['org', 'member', 'add', '--orgname', 'acme', '--username', 'bob', '--role', 'member'],
      { token: aliceToken },
    );
    expect(added).toMatch(/^organization:\s+acme\nuser:\s+bob\nrole:\s+member\n$/);
    const members = await json<{ user: { username: string }; role: string }[]>(
      ['org', 'member', 'list', '-n', 'acme'],
      { token: aliceToken },
    );
    expect(members.map((m) => [m.user.username, m.role]).sort()).toEqual([
      ['alice', 'owner'],
      ['bob', 'member'],
    ]);
    const memberTable = await ok(['org', 'member', 'list', '-n', 'acme'], { token: aliceToken });
    expect(memberTable.split('\n')[0]).toMatch(/^USERNAME\s+ROLE\s+ID$/);

    const pg = await json<{ path: string; visibility: string }>(
      ['projectgroup', 'create', '--name', 'team', '--parent', 'org/acme'],
      { token: aliceToken },
    );
    expect(pg).toMatchObject({ path: 'org/acme/team', visibility: 'public' });

    const secretFile = join(dir, 'secret.yml');
    await writeFile(secretFile, 'password: s3cr3t-value\nport: 5432\n');
    await ok(
      [
        'projectgroup',
        'secret',
        'create',
        '--projectgroup',
        'org/acme/team',
        '-n',
        'db',
        '--file',
        secretFile,
      ],
      { token: aliceToken },
    );
    await ok(
      [
        'projectgroup',
        'secret',
        'create',
        '--projectgroup',
        'org/acme/team',
        '-n',
        'registry',
        '-f',
        '-',
      ],
      { token: aliceToken, stdin: 'user: deploy\ntoken: from-stdin\n' },
    );
    const secrets = await json<{ name: string; parent_path: string }[]>(
      ['projectgroup', 'secret', 'list', '--projectgroup', 'org/acme/team'],
      { token: aliceToken },
    );
    expect(secrets.map((s) => s.name).sort()).toEqual(['db', 'registry']);
    expect(secrets.every((s) => s.parent_path === 'org/acme/team')).toBe(true);
    // names only: the data never reaches the output
    const secretTable = await ok(
      ['projectgroup', 'secret', 'list', '--projectgroup', 'org/acme/team'],
      { token: aliceToken },
    );
    expect(secretTable).not.toContain('s3cr3t-value');

    await ok(
      [
        'projectgroup',
        'variable',
        'create',
        '--projectgroup',
        'org/acme/team',
        '-n',
        'dbpassword',
        '-f',
        '-',
      ],
      {
        token: aliceToken,
        stdin: '- secret_name: db\n  secret_var: password\n  when:\n    branch: main\n',
      },
    );
    const vars = await json<
      {
        name: string;
        values: { secret_name: string; secret_var: string; matching_secret_parent_path: string }[];
      }[]
    >(['projectgroup', 'variable', 'list', '--projectgroup', 'org/acme/team'], {
      token: aliceToken,
    });
    expect(vars).toHaveLength(1);
    expect(vars[0]!.name).toBe('dbpassword');
    expect(vars[0]!.values[0]).toMatchObject({
      secret_name: 'db',
      secret_var: 'password',
      matching_secret_parent_path: 'org/acme/team',
    });

    await ok(
      [
        'projectgroup',
        'secret',
        'update',
        '--projectgroup',
        'org/acme/team',
        '-n',
        'registry',
        '--new-name',
        'registry2',
        '-f',
        '-',
      ],
      { token: aliceToken, stdin: 'user: deploy2\n' },
    );
    await ok(
      ['projectgroup', 'secret', 'delete', '--projectgroup', 'org/acme/team', '-n', 'registry2'],
      {
        token: aliceToken,
      },
    );
    const after = await json<{ name: string }[]>(
      ['projectgroup', 'secret', 'list', '--projectgroup', 'org/acme/team'],
      { token: aliceToken },
    );
    expect(after.map((s) => s.name)).toEqual(['db']);

    // a secret file that is not a map is refused before any request
    const badFile = await agola(
      ['projectgroup', 'secret', 'create', '--projectgroup', 'org/acme/team', '-n', 'x', '-f', '-'],
      { token: aliceToken, stdin: '- a\n- b\n' },
    );
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toBe('agola: the secret file must be a YAML map of names to values\n');
  });

  it("errors: the gateway's message with exit 1, usage errors with exit 2, --detailed-errors shows the chain", async () => {
    const missing = await agola(['org', 'member', 'list', '--orgname', 'nosuchorg'], {
      token: aliceToken,
    });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^agola: .*nosuchorg.* \(404 ERR_\w+\)\n$/);

    const detailed = await agola(
      ['org', 'member', 'list', '--orgname', 'nosuchorg', '--detailed-errors'],
      {
        token: aliceToken,
      },
    );
    expect(detailed.code).toBe(1);
    const lines = detailed.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(missing.stderr.trimEnd());
    expect(lines[1]).toBe('error details:');
    // one line per chain element, with where it was made (file:line)
    expect(lines[2]).toMatch(
      /^ {2}RemoteError\[ERR_\w+\] at \S+ \(\S+:\d+\): remote error notexist/,
    );

    const enumFlag = await agola(['org', 'create', '--name', 'x', '--visibility', 'secret'], {
      token: aliceToken,
    });
    expect(enumFlag.code).toBe(2);
    expect(enumFlag.stderr).toContain('must be one of public, private');
    const badName = await agola(['org', 'create', '--name', 'bad_name'], { token: aliceToken });
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('must start with a letter');
    const unknown = await agola(['org', 'list', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const neither = await agola(['run', 'list'], { token: aliceToken });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('one of --project, --username is required');
    const both = await agola(['run', 'list', '--project', 'p', '--username', 'u'], {
      token: aliceToken,
    });
    expect(both.code).toBe(2);
    const badVar = await agola(['run', 'list', '--username', 'alice', '--phase', 'sleeping']);
    expect(badVar.code).toBe(2);
    expect(badVar.stderr).toContain('must be one of setuperror, queued');

    // no token: the gateway's 401
    const anonymous = await agola(['user', 'list']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/\(401 ERR_GATEWAY_UNAUTHENTICATED\)/);
  });

  it('runs: list, show, follow a log while the step runs, approve a task, read and delete logs', async () => {
    const { runs } = await planRunsFromFile({
      data: `runs:
  - name: cli-run
    tasks:
      - name: slow
        runtime: { containers: [{ image: busybox }] }
        steps:
          - run:
              name: count
              command: for i in 1 2 3 4; do echo "line $i"; sleep 0.4; done
      - name: gate
        depends: [slow]
        approval: true
        runtime: { containers: [{ image: busybox }] }
        steps:
          - run: echo gate passed
`,
      path: '.agola/config.yml',
      context: contextOfRef('refs/heads/main', '0'.repeat(40))!,
      variables: {},
      commitMessage: 'cli test',
    });
    const rs = createRunserviceClient({ baseUrl: `${runserviceURL}/api/v1alpha` });
    await rs.createRun(
      plannedRunToCreateRequest(runs[0]!, {
        group: `/user/${aliceId}/branch/main`,
        cacheGroup: `/user/${aliceId}`,
      }),
    );

    // follow the first step's log from the CLI while it runs: it ends when the step ends
    const gw = createGatewayClient({ baseUrl: gatewayURL, token: aliceToken });
    const owner = { kind: 'user', ref: 'alice' } as const;
    await eventually(async () => {
      const run = await gw.getRun(owner, 1);
      const slow = Object.values(run.tasks).find((t) => t.name === 'slow')!;
      const task = await gw.getRunTask(owner, 1, slow.id);
      if (task.steps[0]?.phase !== 'running' && task.steps[0]?.phase !== 'success') {
        throw new Error(`step not started: ${task.steps[0]?.phase}`);
      }
    });
    const followed = await ok(
      [
        'log',
        'get',
        '--username',
        'alice',
        '--runnumber',
        '1',
        '--taskname',
        'slow',
        '--step',
        '0',
        '--follow',
      ],
      { token: aliceToken },
    );
    expect(followed.replace(/\r/g, '')).toContain('line 1\nline 2\nline 3\nline 4\n');

    // the gate waits for approval
    const waiting = await aliceRun<{
      phase: string;
      tasks_waiting_approval: string[];
      tasks: Record<string, { name: string }>;
    }>(1, aliceToken, { until: (r) => r.tasks_waiting_approval.length > 0 });
    const gateId = waiting.tasks_waiting_approval[0]!;
    expect(waiting.tasks[gateId]!.name).toBe('gate');
    const shown = await ok(['run', 'show', '--username', 'alice', '--runnumber', '1'], {
      token: aliceToken,
    });
    expect(shown).toMatch(/^run 1: cli-run\nphase:\s+running\n/);
    expect(shown).toMatch(/\nTASK\s+STATUS\s+LEVEL\s+APPROVAL\s+ID\n/);
    expect(shown).toMatch(/\ngate\s+notstarted\s+1\s+waiting\s+\S+\n/);

    await ok(
      ['run', 'task', 'approve', '--username', 'alice', '--runnumber', '1', '--taskname', 'gate'],
      {
        token: aliceToken,
      },
    );
    const finished = await aliceRun<{ phase: string; result: string }>(1, aliceToken, {
      until: (r) => r.phase === 'finished',
      timeoutMs: 60_000,
    });
    expect(finished.result).toBe('success');

    const list = await ok(['run', 'list', '--username', 'alice'], { token: aliceToken });
    expect(list).toMatch(
      /^NUMBER\s+NAME\s+PHASE\s+RESULT\s+STARTED\s+ENDED\n1\s+cli-run\s+finished\s+success\s+\S+\s+\S+\n$/,
    );
    expect(
      await json<unknown[]>(['run', 'list', '--username', 'alice', '--phase', 'queued'], {
        token: aliceToken,
      }),
    ).toEqual([]);

    const steps = await ok(
      ['run', 'show', '--username', 'alice', '--runnumber', '1', '--taskname', 'gate'],
      {
        token: aliceToken,
      },
    );
    expect(steps).toMatch(/^task gate \(\S+\): success\n/);
    expect(steps).toMatch(/\n0\s+echo gate passed\s+success\s+0\n/);

    const out = join(dir, 'gate.log');
    await ok(
      [
        'log',
        'get',
        '--username',
        'alice',
        '--runnumber',
        '1',
        '--taskname',
        'gate',
        '--step',
        '0',
        '-o',
        out,
      ],
      {
        token: aliceToken,
      },
    );
    expect((await readFile(out, 'utf8')).replace(/\r/g, '')).toBe('gate passed\n');
    const noSelector = await agola([
      'log',
      'get',
      '--username',
      'alice',
      '--runnumber',
      '1',
      '--taskname',
      'gate',
    ]);
    expect(noSelector.code).toBe(2);
    const noTask = await agola(
      [
        'log',
        'get',
        '--username',
        'alice',
        '--runnumber',
        '1',
        '--taskname',
        'nope',
        '--step',
        '0',
      ],
      { token: aliceToken },
    );
    expect(noTask.code).toBe(1);
    expect(noTask.stderr).toBe('agola: run 1 has no task named "nope" (tasks: gate, slow)\n');

    await ok(
      [
        'log',
        'delete',
        '--username',
        'alice',
        '--runnumber',
        '1',
        '--taskname',
        'gate',
        '--step',
        '0',
      ],
      {
        token: aliceToken,
      },
    );
    const gone = await agola(
      [
        'log',
        'get',
        '--username',
        'alice',
        '--runnumber',
        '1',
        '--taskname',
        'gate',
        '--step',
        '0',
      ],
      {
        token: aliceToken,
      },
    );
    expect(gone.code).toBe(1);

    // restart from the start: a new run; stop it while it runs
    expect(
      await ok(['run', 'restart', '--username', 'alice', '--runnumber', '1', '--from-start'], {
        token: aliceToken,
      }),
    ).toBe('run 1 restarted as run 2\n');
    await aliceRun(2, aliceToken, { until: (r) => r.phase === 'running' });
    expect(
      await ok(['run', 'stop', '--username', 'alice', '--runnumber', '2'], { token: aliceToken }),
    ).toBe('run 2 stopping\n');
    const stopped = await aliceRun<{ phase: string; result: string }>(2, aliceToken, {
      until: (r) => r.phase === 'finished',
      timeoutMs: 60_000,
    });
    expect(stopped.result).toBe('stopped');
  });

  it('run cancel: a queued run is cancelled, a running one is refused', async () => {
    // a run waiting for approval keeps its group busy: the next run of the group stays queued
    const { runs } = await planRunsFromFile({
      data: `runs:
  - name: held
    tasks:
      - name: gate
        approval: true
        runtime: { containers: [{ image: busybox }] }
        steps:
          - run: echo never
`,
      path: '.agola/config.yml',
      context: contextOfRef('refs/heads/hold', '1'.repeat(40))!,
      variables: {},
      commitMessage: 'cancel test',
    });
    const rs = createRunserviceClient({ baseUrl: `${runserviceURL}/api/v1alpha` });
    const req = plannedRunToCreateRequest(runs[0]!, {
      group: `/user/${aliceId}/branch/hold`,
      cacheGroup: `/user/${aliceId}`,
    });
    await rs.createRun(req);
    await aliceRun(3, aliceToken, { until: (r) => r.phase === 'running' });
    await rs.createRun(req);
    expect((await aliceRun(4, aliceToken)).phase).toBe('queued');

    expect(
      await ok(['run', 'cancel', '--username', 'alice', '--runnumber', '4'], {
        token: aliceToken,
      }),
    ).toBe('run 4 cancelled\n');
    const cancelled = await aliceRun<{ phase: string; result: string }>(4, aliceToken, {
      until: (r) => r.phase === 'cancelled',
    });
    expect(cancelled.result).toBe('unknown');

    const refused = await agola(['run', 'cancel', '--username', 'alice', '--runnumber', '3'], {
      token: aliceToken,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^agola: .*is not queued but in "running" phase.* \(400 ERR_\w+\)\n$/,
    );
    const noRun = await agola(['run', 'cancel', '--username', 'alice'], { token: aliceToken });
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain("required option '--runnumber <n>' not specified");

    // stopped, so it does not keep the executor busy for the next tests
    await ok(['run', 'stop', '--username', 'alice', '--runnumber', '3'], { token: aliceToken });
    await aliceRun(3, aliceToken, { until: (r) => r.phase === 'finished', timeoutMs: 60_000 });
  });

  it('updates and deletes: project group, org, user, token', async () => {
    await ok(['projectgroup', 'create', '-n', 'tmp', '--parent', 'org/acme'], {
      token: aliceToken,
    });
    await ok(['projectgroup', 'update', '--ref', 'org/acme/tmp', '--visibility', 'private'], {
      token: aliceToken,
    });
    const groups = await json<{ name: string; visibility: string }[]>(
      ['projectgroup', 'list', '--parent', 'org/acme'],
      { token: aliceToken },
    );
    expect(groups.map((g) => [g.name, g.visibility]).sort()).toEqual([
      ['team', 'public'],
      ['tmp', 'private'],
    ]);
    expect(
      await ok(['projectgroup', 'delete', '--ref', 'org/acme/tmp'], { token: aliceToken }),
    ).toBe('project group org/acme/tmp deleted\n');
    expect(
      (
        await json<{ name: string }[]>(['projectgroup', 'list', '--parent', 'org/acme'], {
          token: aliceToken,
        })
      ).map((g) => g.name),
    ).toEqual(['team']);

    await ok(['org', 'create', '-n', 'shortlived'], { token: aliceToken });
    expect(
      await json<{ ok: boolean }>(['org', 'delete', '-n', 'shortlived'], { token: aliceToken }),
    ).toEqual({
      ok: true,
    });
    const gone = await agola(['org', 'member', 'list', '-n', 'shortlived'], { token: aliceToken });
    expect(gone.code).toBe(1);

    await ok(['user', 'create', '-n', 'carol'], { token: ADMIN_TOKEN });
    await ok(['user', 'token', 'create', '-n', 'carol', '-t', 'temp'], { token: ADMIN_TOKEN });
    await ok(['user', 'token', 'delete', '-n', 'carol', '-t', 'temp'], { token: ADMIN_TOKEN });
    expect(
      (
        await json<{ username: string; tokens: string[] }[]>(['user', 'list'], {
          token: ADMIN_TOKEN,
        })
      ).find((u) => u.username === 'carol')?.tokens,
    ).toEqual([]);
    await ok(['user', 'delete', '-n', 'carol'], { token: ADMIN_TOKEN });
    expect(
      (await json<{ username: string }[]>(['user', 'list'], { token: ADMIN_TOKEN })).map(
        (u) => u.username,
      ),
    ).toEqual(['alice', 'bob']);
  });

  it('a remote source, a linked account, a project of a forge repository with its secrets, a run', async () => {
    forge = await startForge({ type: 'gitea' });
    forge.addUser({ login: 'alice', password: 'forge-pw' });
    const repo = await forge.createRepo({ owner: 'alice', name: 'app' });
    await forge.commit({
      repo: repo.path,
      files: {
        '.agola/config.yml':
          'runs:\n  - name: app\n    tasks:\n      - name: hi\n        runtime: { containers: [{ image: busybox }] }\n        steps:\n          - run: echo hi\n',
      },
    });

    const badType = await agola(
      [
        'remotesource',
        'create',
        '-n',
        'x',
        '--type',
        'svn',
        '--auth-type',
        'password',
        '--api-url',
        forge.apiURL,
      ],
      { token: ADMIN_TOKEN },
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('must be one of gitea, github, gitlab');
    await ok(
      [
        'remotesource',
        'create',
        '-n',
        'gitea',
        '--type',
        'gitea',
        '--auth-type',
        'password',
        '--api-url',
        forge.apiURL,
      ],
      { token: ADMIN_TOKEN },
    );
    const sources = await ok(['remotesource', 'list']);
    expect(sources).toMatch(
      /^ID\s+NAME\s+AUTH TYPE\s+REGISTRATION\s+LOGIN\n\S+\s+gitea\s+password\s+true\s+true\n$/,
    );
    await ok(['remotesource', 'update', '--ref', 'gitea', '--registration-enabled', 'false'], {
      token: ADMIN_TOKEN,
    });
    expect(
      (await json<{ registration_enabled: boolean }[]>(['remotesource', 'list']))[0],
    ).toMatchObject({
      registration_enabled: false,
    });

    const linked = await ok(
      [
        'user',
        'linkedaccount',
        'create',
        '-n',
        'alice',
        '-r',
        'gitea',
        '--remote-name',
        'alice',
        '--remote-password',
        'forge-pw',
      ],
      { token: aliceToken },
    );
    expect(linked).toMatch(/^linked account \S+ created\n$/);
    const laId = /^linked account (\S+) created/.exec(linked)![1]!;

    const project = await json<{ path: string; visibility: string }>(
      [
        'project',
        'create',
        '-n',
        'app',
        '--parent',
        'org/acme',
        '--repo-path',
        repo.path,
        '--remote-source',
        'gitea',
      ],
      { token: aliceToken },
    );
    expect(project).toMatchObject({ path: 'org/acme/app', visibility: 'public' });
    expect(forge.hooks(repo.path)).toHaveLength(1);
    expect(await ok(['project', 'reconfig', '-n', 'org/acme/app'], { token: aliceToken })).toBe(
      'project org/acme/app reconfigured\n',
    );
    // still one webhook: the old one was replaced
    expect(forge.hooks(repo.path)).toHaveLength(1);
    await ok(['project', 'update', '--ref', 'org/acme/app', '--visibility', 'private'], {
      token: aliceToken,
    });
    const projects = await ok(['project', 'list', '--parent', 'org/acme'], { token: aliceToken });
    expect(projects).toMatch(
      /^ID\s+NAME\s+PATH\s+VISIBILITY\n\S+\s+app\s+org\/acme\/app\s+private\n$/,
    );

    await ok(['project', 'secret', 'create', '--project', 'org/acme/app', '-n', 'own', '-f', '-'], {
      token: aliceToken,
      stdin: 'k: v\n',
    });
    // the tree: the project's secret, then its group's (the team group is a sibling: not there)
    const tree = await json<{ name: string; parent_path: string }[]>(
      ['project', 'secret', 'list', '--project', 'org/acme/app', '--tree'],
      { token: aliceToken },
    );
    expect(tree.map((s) => [s.name, s.parent_path])).toEqual([['own', 'org/acme/app']]);

    await ok(['run', 'create', '--project', 'org/acme/app', '--branch', 'main'], {
      token: aliceToken,
    });
    const projectRuns = await json<{ number: number; name: string }[]>(
      ['run', 'list', '--project', 'org/acme/app'],
      { token: aliceToken, until: (r) => r.length > 0 },
    );
    expect(projectRuns.map((r) => [r.number, r.name])).toEqual([[1, 'app']]);
    const noBranch = await agola(['run', 'create', '--project', 'org/acme/app'], {
      token: aliceToken,
    });
    expect(noBranch.code).toBe(2);
    expect(noBranch.stderr).toContain('one of --branch, --tag, --ref is required');

    // the linked account: listed with the user, deleted, then gone
    const linkedOf = async () =>
      (
        await json<{ username: string; linked_accounts: { id: string }[] }[]>(['user', 'list'], {
          token: ADMIN_TOKEN,
        })
      )
        .find((u) => u.username === 'alice')!
        .linked_accounts.map((la) => la.id);
    expect(await linkedOf()).toEqual([laId]);
    const bobDenied = await agola(
      ['user', 'linkedaccount', 'delete', '-n', 'alice', '--laid', laId],
      {
        token: (
          await ok(['user', 'token', 'create', '-n', 'bob', '-t', 'la'], { token: ADMIN_TOKEN })
        ).trim(),
      },
    );
    expect(bobDenied.code).toBe(1);
    expect(bobDenied.stderr).toMatch(/\(403 ERR_\w+\)\n$/);
    expect(
      await ok(['user', 'linkedaccount', 'delete', '-n', 'alice', '--laid', laId], {
        token: aliceToken,
      }),
    ).toBe(`linked account ${laId} deleted\n`);
    expect(await linkedOf()).toEqual([]);
    const again = await agola(['user', 'linkedaccount', 'delete', '-n', 'alice', '--laid', laId], {
      token: aliceToken,
    });
    expect(again.code).toBe(1);
    // (a 400, as Agola's configstore answers)
    expect(again.stderr).toBe(
      `agola: linked account "${laId}" of user alice doesn't exist (400 ERR_CONFIGSTORE_MISSING_ENTITY)\n`,
    );
    const noLaid = await agola(['user', 'linkedaccount', 'delete', '-n', 'alice'], {
      token: aliceToken,
    });
    expect(noLaid.code).toBe(2);
  });

  it('export configstore, maintenance enable, import, disable: the exported data is back', async () => {
    const file = join(dir, 'configstore.export');
    // a user is no admin
    const denied = await agola(['export', 'configstore', '-o', file], { token: aliceToken });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/\(403 ERR_GATEWAY_FORBIDDEN\)/);

    await ok(['export', 'configstore', '-o', file], { token: ADMIN_TOKEN });
    const exported = await readFile(file, 'utf8');
    expect(exported).toContain(`{"id":"${aliceId}","data_type":"user"`);
    // the same bytes on stdout
    expect(await ok(['export', 'configstore'], { token: ADMIN_TOKEN })).toBe(exported);

    // made after the export: the import takes it away
    await ok(['org', 'create', '--name', 'later'], { token: aliceToken });

    const outside = await agola(['import', 'configstore', '-f', '-'], {
      token: ADMIN_TOKEN,
      stdin: exported,
    });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/\(400 ERR_DATAMANAGER_NOT_IN_MAINTENANCE\)/);

    // enable returns once the configstore serves maintenance mode: an import from stdin (which
    // cannot be sent twice) works right away
    const admin = createGatewayClient({ baseUrl: gatewayURL, token: ADMIN_TOKEN });
    expect(await ok(['maintenance', 'enable', 'configstore'], { token: ADMIN_TOKEN })).toBe(
      'configstore maintenance mode enabled\n',
    );
    expect(await admin.getMaintenanceStatus('configstore')).toEqual({
      requested_status: true,
      current_status: true,
    });
    expect(
      await ok(['import', 'configstore', '-f', '-'], { token: ADMIN_TOKEN, stdin: exported }),
    ).toBe('configstore imported\n');
    expect(await ok(['import', 'configstore', '--file', file], { token: ADMIN_TOKEN })).toBe(
      'configstore imported\n',
    );
    await eventually(() => ok(['maintenance', 'disable', 'configstore'], { token: ADMIN_TOKEN }));
    expect(await admin.getMaintenanceStatus('configstore')).toEqual({
      requested_status: false,
      current_status: false,
    });
    // the status is the admin's too
    await expect(
      createGatewayClient({ baseUrl: gatewayURL, token: aliceToken }).getMaintenanceStatus(
        'configstore',
      ),
    ).rejects.toThrow(/ERR_GATEWAY_FORBIDDEN/);

    const orgs = await eventually(async () =>
      json<{ name: string }[]>(['org', 'list'], { token: aliceToken }),
    );
    expect(orgs.map((o) => o.name)).toEqual(['acme']);
    const users = await json<{ username: string }[]>(['user', 'list'], { token: ADMIN_TOKEN });
    expect(users.map((u) => u.username)).toEqual(['alice', 'bob']);
    const secrets = await json<{ name: string }[]>(
      ['projectgroup', 'secret', 'list', '--projectgroup', 'org/acme/team'],
      { token: aliceToken },
    );
    expect(secrets.map((s) => s.name)).toEqual(['db']);

    const badService = await agola(['export', 'gateway'], { token: ADMIN_TOKEN });
    expect(badService.code).toBe(2);
    expect(badService.stderr).toContain('must be one of configstore, runservice');
  });

  it('maintenance --no-wait returns before the switch; the waiting disable after it', async () => {
    const admin = createGatewayClient({ baseUrl: gatewayURL, token: ADMIN_TOKEN });
    expect(
      await ok(['maintenance', 'enable', 'runservice', '--no-wait'], { token: ADMIN_TOKEN }),
    ).toBe('runservice maintenance mode enabled (switch requested; not waited for)\n');
    expect((await admin.getMaintenanceStatus('runservice')).requested_status).toBe(true);
    // the disable waits for normal mode (through the runservice's switch to maintenance and
    // back); --json prints {"ok": true}
    await eventually(async () =>
      expect(
        await json(['maintenance', 'disable', 'runservice', '--timeout', '60'], {
          token: ADMIN_TOKEN,
        }),
      ).toEqual({ ok: true }),
    );
    await eventually(async () =>
      expect(await admin.getMaintenanceStatus('runservice')).toEqual({
        requested_status: false,
        current_status: false,
      }),
    );
    // the runservice answers again (its runs are all there)
    const runs = await json<unknown[]>(['run', 'list', '--username', 'alice'], {
      token: aliceToken,
      until: (r) => r.length === 4,
    });
    expect(runs).toHaveLength(4);

    const badTimeout = await agola(['maintenance', 'enable', 'runservice', '--timeout', '0'], {
      token: ADMIN_TOKEN,
    });
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('must be a positive integer');
  });

  it('no token appears in any output (except the one token create prints)', () => {
    expect(outputs.length).toBeGreaterThan(30);
    for (const o of outputs) {
      const text = o.out + o.err;
      expect(text, o.args.join(' ')).not.toContain(ADMIN_TOKEN);
      if (!(o.args[0] === 'user' && o.args[1] === 'token' && o.args[2] === 'create')) {
        expect(text, o.args.join(' ')).not.toContain(aliceToken);
      }
    }
  });
});

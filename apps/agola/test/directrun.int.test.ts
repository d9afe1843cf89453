import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
// the quickstart's helpers: serve on embedded defaults, a user with a token, directrun spawned
const QUICKSTART = join(here, '../../../tools/quickstart/serve.mjs');

interface Serve {
  gatewayURL: string;
  adminToken: string;
  stop(): Promise<number | null>;
}
interface DirectRunOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}
interface Quickstart {
  startServe(o: { dataDir: string }): Promise<Serve>;
  createUserWithToken(
    gatewayURL: string,
    adminToken: string,
    username: string,
  ): Promise<{ username: string; userId: string; token: string }>;
  directrun(o: {
    gatewayURL: string;
    token: string;
    repoDir: string;
    args?: string[];
  }): Promise<DirectRunOutcome>;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

let qs: Quickstart;
let dir: string;
let serve: Serve;
let token: string;
let userId: string;

beforeAll(async () => {
  qs = (await import(QUICKSTART)) as Quickstart;
  dir = await mkdtemp(join(tmpdir(), 'directrun-'));
  serve = await qs.startServe({ dataDir: join(dir, 'serve') });
  const user = await qs.createUserWithToken(serve.gatewayURL, serve.adminToken, 'tester');
  token = user.token;
  userId = user.userId;
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A repository with `.agola/config.yml` = `config`, one commit, user identity set. */
async function repo(name: string, config: string, files: Record<string, string> = {}) {
  const r = join(dir, name);
  await mkdir(join(r, '.agola'), { recursive: true });
  await writeFile(join(r, '.agola', 'config.yml'), config);
  for (const [f, text] of Object.entries(files)) await writeFile(join(r, f), text);
  git(r, 'init', '-q', '-b', 'main');
  git(r, 'config', 'user.name', 'Tester');
  git(r, 'config', 'user.email', 'tester@example.com');
  git(r, 'add', '.');
  git(r, 'commit', '-q', '-m', 'first');
  return r;
}

const oneTask = (steps: string, extra = '') => `
runs:
  - name: check
    tasks:
      - name: main
        runtime:
          containers:
            - image: busybox:stable
${extra}        steps:
${steps}
`;

const run = (repoDir: string, args: string[] = [], t = token) =>
  qs.directrun({ gatewayURL: serve.gatewayURL, token: t, repoDir, args });

describe('agola directrun start', () => {
  it('runs the work tree as it is: an uncommitted change and an untracked file are in the run', async () => {
    const r = await repo(
      'dirty',
      oneTask(`          - clone:
          - run:
              name: show
              command: cat tracked.txt untracked.txt`),
      { 'tracked.txt': 'committed version\n' },
    );
    await writeFile(join(r, 'tracked.txt'), 'uncommitted change\n');
    await writeFile(join(r, 'untracked.txt'), 'untracked file\n');
    const headBefore = git(r, 'rev-parse', 'HEAD');
    const statusBefore = git(r, 'status', '--porcelain');

    const out = await run(r);
    expect(out.stderr).toMatch(/agola: run check #\d+ success/);
    expect(out.exitCode).toBe(0);
    // the step's log, prefixed by its task, on stdout
    expect(out.stdout).toMatch(/^main \| uncommitted change\r?$/m);
    expect(out.stdout).toMatch(/^main \| untracked file\r?$/m);
    expect(out.stdout).not.toContain('committed version');
    expect(out.stdout).toMatch(/^main \| ▶ show$/m);
    // progress lines (stderr is not a terminal) and the timing summary
    expect(out.stderr).toContain('agola: task main running');
    expect(out.stderr).toMatch(/agola: task main success \(\d+\.\ds\)/);
    expect(out.stderr).toMatch(/first log line [\d.]+ s after the push/);

    // the repository is as it was; the uuid is in its config, the token nowhere in it
    expect(git(r, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(git(r, 'status', '--porcelain')).toBe(statusBefore);
    const uuid = git(r, 'config', '--get', 'agola.repouuid');
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const config = await readFile(join(r, '.git', 'config'), 'utf8');
    expect(config).not.toContain(token);
    expect(config).not.toMatch(/extraheader|\/repos\//i);
    expect(out.stdout + out.stderr).not.toContain(token);
    // the saved commit was pushed to the user's repository on the git server
    const bare = join(dir, 'serve', 'gitserver', userId, `${uuid}.git`);
    expect(git(bare, 'rev-parse', 'refs/heads/master')).toBe(
      git(r, 'rev-parse', 'refs/agola/directrun/last'),
    );

    // a second run reuses the repository uuid
    const again = await run(r, ['--branch', 'feature']);
    expect(again.exitCode).toBe(0);
    expect(git(r, 'config', '--get', 'agola.repouuid')).toBe(uuid);
  });

  it('exits 1 when a task fails, with its log', async () => {
    const r = await repo(
      'failing',
      oneTask(`          - run:
              name: fail
              command: echo "about to fail" && exit 3`),
    );
    const out = await run(r);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^main \| about to fail\r?$/m);
    expect(out.stderr).toMatch(/agola: task main failed/);
    expect(out.stderr).toMatch(/agola: run check #\d+ failed/);
  });

  it('prints the setup errors of a broken config and exits 1', async () => {
    const r = await repo(
      'broken',
      `runs:
  - name: broken
    tasks:
      - name: main
        steps:
          - run:
              shell: /bin/sh
`,
    );
    const out = await run(r);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/agola: run Setup Error #\d+ setup error: .+/);
    expect(out.stderr).toMatch(/agola: run Setup Error #\d+ setuperror/);
  });

  it('passes --var (over --var-file) to the task environment through the config', async () => {
    const r = await repo(
      'vars',
      oneTask(
        `          - run:
              name: env
              command: |
                if [ "$GREETING" = "hello from a flag" ] && [ "$TARGET" = "from-file" ]; then
                  echo "variables ok: \${#GREETING} and \${#TARGET} characters"
                else echo "wrong variables"; exit 1; fi`,
        `        environment:
          GREETING:
            from_variable: greeting
          TARGET:
            from_variable: target
`,
      ),
    );
    const varFile = join(dir, 'vars.yml');
    await writeFile(varFile, 'greeting: from-file\ntarget: from-file\n');
    const out = await run(r, ['--var-file', varFile, '--var', 'greeting=hello from a flag']);
    expect(out.exitCode).toBe(0);
    // (the executor masks variable values in logs, so the step compares them itself)
    expect(out.stdout).toMatch(/^main \| variables ok: 17 and 9 characters\r?$/m);
  });

  it('refuses bad flags with a clear message and exit code 2, before pushing anything', async () => {
    const r = await repo('flags', oneTask(`          - run: echo never`));
    const cases: [string[], RegExp][] = [
      [['--branch', 'a', '--tag', 'b'], /only one of --branch, --tag or --ref can be given/],
      [['--var', 'NOEQUALS'], /--var "NOEQUALS": expected name=value/],
      [['--var-file', join(dir, 'missing.yml')], /--var-file .*missing\.yml: cannot read it/],
      [['--untracked=maybe'], /must be true or false/],
      [['--ref', 'main'], /--ref must be a full ref/],
    ];
    for (const [args, message] of cases) {
      const out = await run(r, args);
      expect(out.stderr).toMatch(message);
      expect(out.exitCode).toBe(2);
    }
    const noToken = await run(r, [], '');
    expect(noToken.stderr).toMatch(/a user token is needed/);
    expect(noToken.exitCode).toBe(2);
    // nothing was saved or configured
    expect(() => git(r, 'rev-parse', '--verify', '--quiet', 'refs/agola/directrun/last')).toThrow();
    expect(() => git(r, 'config', '--get', 'agola.repouuid')).toThrow();
  });

  it('says what is wrong outside a git repository and with a refused token', async () => {
    const plain = join(dir, 'plain');
    await mkdir(plain, { recursive: true });
    const out = await run(plain);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/is not inside a git work tree/);

    const r = await repo('badtoken', oneTask(`          - run: echo never`));
    const bad = await run(r, [], 'not-a-valid-token');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/401/);
    expect(bad.stderr).not.toContain('not-a-valid-token');
  });
});

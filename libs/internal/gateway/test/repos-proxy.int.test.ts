import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGitserver, type Gitserver } from '@agola-ts/gitserver';
import { SECRET_ENV_ANNOTATION } from '@agola-ts/types';
import { createJwtSigner } from '../src/index.js';
import { api, CONFIG_YML, startStack, type Stack } from './runs-helpers.js';

const exec = promisify(execFile);
const UUID = '0b6f5f1e-8a0c-4c3e-9a43-5b0b7a4f2d11';
const SIGNING_KEY = 'runs-tests-signing-key';

async function git(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'T',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 'T',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** A GET with the path sent as given (fetch would normalize `..`). */
function rawGet(
  root: string,
  path: string,
  authorization: string,
): Promise<{ status: number; body: string }> {
  const u = new URL(root);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, headers: { authorization } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function withCreds(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

describe('gateway /repos proxy to the git server', () => {
  let dataDir: string;
  let work: string;
  let gs: Gitserver;
  let stack: Stack;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gw-gitserver-'));
    gs = createGitserver({ dataDir, web: { listen: { host: '127.0.0.1', port: 0 } } });
    await gs.start();
    work = await mkdtemp(join(tmpdir(), 'gw-gitwork-'));
    await git(['init', '--quiet', '-b', 'main'], work);
    await writeFile(join(work, 'hello.txt'), 'hello from the pushed tree\n');
    await writeFile(join(work, '.agola-config.yml'), CONFIG_YML);
    // a body far above the API's 1 MiB limit: the proxy streams it
    await writeFile(join(work, 'big.bin'), randomBytes(3 * 1024 * 1024));
    await git(['add', '-A'], work);
    await git(['commit', '--quiet', '-m', 'first'], work);
  });
  // the stack's services stop after each test (runs-helpers' afterEach)
  // the gateway's trace-level log of the test: no credential may appear in it
  let lines: string[] = [];
  const expectNoneLogged = (secrets: string[]) => {
    // the /repos requests are in it
    expect(lines.some((l) => l.includes('/repos/'))).toBe(true);
    for (const secret of secrets) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  };
  const setup = async () => {
    lines = [];
    stack = await startStack({ gitserverURL: gs.url!, exposeOwnURL: true, gatewayLog: lines });
    const mk = async (name: string) => {
      const user = await stack.configstore.createUser({ user_name: name });
      const { token } = await stack.configstore.createUserToken(name, 'git');
      return { id: user.id, token };
    };
    alice = await mk('alice');
    bob = await mk('bob');
  };
  afterAll(async () => {
    await gs.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  test('a push needs the credentials of the user the path names', async () => {
    await setup();
    const repoURL = `${stack.root}/repos/${alice.id}/${UUID}.git`;
    // anonymous: 401 with a Basic challenge, nothing created
    const anon = await fetch(`${repoURL}/info/refs?service=git-receive-pack`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="Agola"/);
    expect(await anon.json()).toMatchObject({ code: 'ERR_GATEWAY_UNAUTHENTICATED' });
    await expect(git(['push', '--quiet', repoURL, 'main'], work)).rejects.toThrow();
    // a wrong token: 401
    const wrong = await fetch(`${repoURL}/info/refs?service=git-receive-pack`, {
      headers: { authorization: 'token not-a-token' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    // another user: 403, over basic auth as git sends it
    await expect(
      git(['push', '--quiet', withCreds(repoURL, 'bob', bob.token), 'main'], work),
    ).rejects.toThrow(/403/);
    expect(existsSync(join(dataDir, alice.id))).toBe(false);

    // the owner, with its token as the basic auth password
    await git(['push', '--quiet', withCreds(repoURL, 'alice', alice.token), 'main'], work);
    expect(existsSync(join(dataDir, alice.id, `${UUID}.git`, 'HEAD'))).toBe(true);
    const sha = (await git(['rev-parse', 'HEAD'], work)).trim();

    // the owner with Authorization: token, a login JWT as bearer, the admin token
    const ls = async (extra: string[], url = repoURL) =>
      (await git([...extra, 'ls-remote', url, 'refs/heads/main'], work)).split('\t')[0];
    expect(await ls(['-c', `http.extraHeader=Authorization: token ${alice.token}`])).toBe(sha);
    const jwt = createJwtSigner({ alg: 'HS256', key: SIGNING_KEY }).sign({
      sub: alice.id,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect(await ls(['-c', `http.extraHeader=Authorization: bearer ${jwt}`])).toBe(sha);
    expect(await ls([], withCreds(repoURL, 'x', jwt))).toBe(sha);
    expect(await ls([], withCreds(repoURL, 'admin', stack.adminToken))).toBe(sha);
    // bob cannot read it either
    const bobRead = await fetch(`${repoURL}/raw/main/hello.txt`, {
      headers: { authorization: `token ${bob.token}` },
    });
    expect(bobRead.status).toBe(403);
    // an expired login JWT is no credential
    const expired = createJwtSigner({ alg: 'HS256', key: SIGNING_KEY }).sign({
      sub: alice.id,
      exp: Math.floor(Date.now() / 1000) - 10,
    });
    const old = await fetch(`${repoURL}/raw/main/hello.txt`, {
      headers: { authorization: `bearer ${expired}` },
    });
    expect(old.status).toBe(401);
    // dot segments never reach the git server, whoever asks
    for (const path of [
      `/repos/${alice.id}/../${bob.id}/x.git/info/refs?service=git-upload-pack`,
      `/repos/${alice.id}/%2e%2e/${bob.id}/x.git/info/refs?service=git-upload-pack`,
      `/repos/${encodeURIComponent(`${alice.id}/../${bob.id}`)}/x.git/info/refs`,
    ]) {
      const res = await rawGet(stack.root, path, `token ${alice.token}`);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_GATEWAY_INVALID_REQUEST' });
    }
    // raw files and the query pass through
    const file = await fetch(`${repoURL}/raw/main/hello.txt`, {
      headers: { authorization: `token ${alice.token}` },
    });
    expect(await file.text()).toBe('hello from the pushed tree\n');
    expectNoneLogged([
      alice.token,
      bob.token,
      jwt,
      Buffer.from(`alice:${alice.token}`).toString('base64'),
      Buffer.from(`bob:${bob.token}`).toString('base64'),
    ]);
  });

  test('a direct run clones with a read-only token of its repository, masked in the logs', async () => {
    await setup();
    const repo = `${alice.id}/${UUID}`;
    await git(
      ['push', '--quiet', withCreds(`${stack.root}/repos/${repo}.git`, 'a', alice.token), 'main'],
      work,
    );
    await writeFile(join(work, '.agola-dummy'), 'x');
    const sha = (await git(['rev-parse', 'HEAD'], work)).trim();
    // the config at .agola/config.yml
    const cfgWork = await mkdtemp(join(tmpdir(), 'gw-cfg-'));
    try {
      await git(
        [
          'clone',
          '--quiet',
          '-b',
          'main',
          withCreds(`${stack.root}/repos/${repo}.git`, 'a', alice.token),
          cfgWork,
        ],
        work,
      );
      await exec('mkdir', ['-p', join(cfgWork, '.agola')]);
      await writeFile(join(cfgWork, '.agola', 'config.yml'), CONFIG_YML);
      await git(['add', '-A'], cfgWork);
      await git(['commit', '--quiet', '-m', 'config'], cfgWork);
      await git(['push', '--quiet', 'origin', 'main'], cfgWork);
      const head = (await git(['rev-parse', 'HEAD'], cfgWork)).trim();
      expect(head).not.toBe(sha);
      const res = await api(stack, 'POST', '/user/createrun', {
        token: alice.token,
        body: { repo_uuid: UUID, repo_path: repo, branch: 'main', commit_sha: head, message: 'm' },
      });
      expect(res.status).toBe(201);
      const run = (await stack.runservice.getGroupRuns(`/user/${alice.id}`)).runs.at(-1)!;
      const { run_config: runConfig } = await stack.runservice.getRun(run.id);
      const cloneURL = runConfig.static_environment?.['AGOLA_REPOSITORY_URL'] ?? '';
      const u = new URL(cloneURL);
      expect(`${u.origin}${u.pathname}`).toBe(`${stack.root}/repos/${repo}.git`);
      expect(u.username).toBe('agola-clone');
      expect(JSON.parse(run.annotations?.[SECRET_ENV_ANNOTATION] ?? '[]')).toContain(
        'AGOLA_REPOSITORY_URL',
      );
      // what the clone step does
      const clone = await mkdtemp(join(tmpdir(), 'gw-clone-'));
      try {
        await git(['clone', '--quiet', cloneURL, '.'], clone);
        await git(['fetch', '--quiet', 'origin', 'refs/heads/main'], clone);
        await git(['checkout', '--quiet', head], clone);
        expect(existsSync(join(clone, 'hello.txt'))).toBe(true);
        // read only, and only this repository
        await writeFile(join(clone, 'new.txt'), 'n');
        await git(['add', 'new.txt'], clone);
        await git(['commit', '--quiet', '-m', 'n'], clone);
        await expect(
          git(['push', '--quiet', 'origin', 'HEAD:refs/heads/other'], clone),
        ).rejects.toThrow(/403/);
        const other = new URL(cloneURL);
        other.pathname = `/repos/${alice.id}/other.git/info/refs`;
        other.search = '?service=git-upload-pack';
        const otherRes = await fetch(`${other.origin}${other.pathname}${other.search}`, {
          headers: {
            authorization: `Basic ${Buffer.from(`${u.username}:${decodeURIComponent(u.password)}`).toString('base64')}`,
          },
        });
        expect(otherRes.status).toBe(403);
        // the API refuses it as a login token
        const apiRes = await fetch(`${stack.api}/user`, {
          headers: { authorization: `bearer ${decodeURIComponent(u.password)}` },
        });
        expect(apiRes.status).toBe(401);
        expectNoneLogged([alice.token, decodeURIComponent(u.password)]);
      } finally {
        await rm(clone, { recursive: true, force: true });
      }
    } finally {
      await rm(cfgWork, { recursive: true, force: true });
    }
  });

  test('a git server that cannot be reached is a 502 with a JSON error', async () => {
    const down = await startStack({ gitserverURL: 'http://127.0.0.1:1' });
    const user = await down.configstore.createUser({ user_name: 'carol' });
    const { token } = await down.configstore.createUserToken('carol', 'git');
    const res = await fetch(
      `${down.root}/repos/${user.id}/${UUID}.git/info/refs?service=git-upload-pack`,
      {
        headers: { authorization: `token ${token}` },
      },
    );
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'ERR_GATEWAY_GITSERVER_UNAVAILABLE' });
  });
});

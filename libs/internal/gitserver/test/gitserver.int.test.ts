import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { git, startGitserver, tempDir, workTree } from './helpers.js';

/** A request with the path sent exactly as given (fetch would normalize `..`). */
function rawRequest(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const DAY_S = 24 * 3600;

describe('gitserver', () => {
  let server: Awaited<ReturnType<typeof startGitserver>>;
  let outside: string;

  beforeAll(async () => {
    server = await startGitserver();
    outside = await tempDir('outside');
  });
  afterAll(async () => {
    await server.stop();
    await rm(outside, { recursive: true, force: true });
  });

  test('GET /health answers', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
  });

  test('a push creates the repo; a second push updates it; clones and raw files read it', async () => {
    const work = await workTree({ 'README.md': 'hello\n', 'dir/file.txt': 'one\n' });
    const remote = `${server.url}/user1/repo1.git`;
    await git(['push', '--quiet', remote, 'main'], work);
    expect(existsSync(join(server.dataDir, 'user1', 'repo1.git', 'HEAD'))).toBe(true);
    const first = (await git(['rev-parse', 'HEAD'], work)).trim();

    await writeFile(join(work, 'dir/file.txt'), 'two\n');
    await git(['commit', '--quiet', '-am', 'second'], work);
    await git(['push', '--quiet', remote, 'main'], work);
    const second = (await git(['rev-parse', 'HEAD'], work)).trim();

    const clone = await tempDir('clone');
    await git(['clone', '--quiet', '-b', 'main', remote, clone], outside);
    expect((await git(['rev-parse', 'HEAD'], clone)).trim()).toBe(second);
    expect((await git(['log', '--format=%H'], clone)).trim().split('\n')).toEqual([second, first]);
    await rm(clone, { recursive: true, force: true });

    const raw = async (ref: string, path: string) => fetch(`${remote}/raw/${ref}/${path}`);
    expect(await (await raw('main', 'dir/file.txt')).text()).toBe('two\n');
    expect(await (await raw(first, 'dir/file.txt')).text()).toBe('one\n');
    expect(await (await raw(encodeURIComponent('refs/heads/main'), 'README.md')).text()).toBe(
      'hello\n',
    );
    const missing = await raw('main', 'nope.txt');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ERR_GITSERVER_NOT_EXIST' });
    const noRepo = await fetch(`${server.url}/user1/none.git/raw/main/README.md`);
    expect(noRepo.status).toBe(404);
    // a fetch of a repo that does not exist creates nothing
    const info = await fetch(`${server.url}/user1/none.git/info/refs?service=git-upload-pack`);
    expect(info.status).toBe(404);
    expect(existsSync(join(server.dataDir, 'user1', 'none.git'))).toBe(false);
    await rm(work, { recursive: true, force: true });
  });

  test('a ref that looks like an option or moves the path split is refused before git runs', async () => {
    const work = await workTree({ 'a.txt': 'a\n' });
    const remote = `${server.url}/user1/opts.git`;
    await git(['push', '--quiet', remote, 'main'], work);
    const target = join(outside, 'written');
    for (const ref of [`--output=${target}`, '-p', 'main:a.txt', ':%2Fa']) {
      const res = await fetch(`${remote}/raw/${encodeURIComponent(ref)}/a.txt`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'ERR_GITSERVER_INVALID_REF' });
    }
    const up = await rawRequest(server.url, '/user1/opts.git/raw/main/../../etc/passwd');
    expect(up.status).toBe(400);
    expect(existsSync(target)).toBe(false);
    await rm(work, { recursive: true, force: true });
  });

  test('invalid repository paths get 400 with a JSON error and create nothing', async () => {
    await writeFile(join(server.dataDir, 'afile'), 'x');
    await symlink(outside, join(server.dataDir, 'escape'));
    const paths = [
      '/a/b.git/c.git',
      '/../x.git',
      '/%2e%2e/x.git',
      '/user1/..%2Fx.git',
      '/user1//r.git',
      '/user1/.hidden.git',
      '/afile/r.git',
      '/escape/r.git',
    ];
    for (const p of paths) {
      const res = await rawRequest(server.url, `${p}/info/refs?service=git-receive-pack`);
      expect({ p, status: res.status }).toEqual({ p, status: 400 });
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_GITSERVER_INVALID_REPO_PATH' });
    }
    // a real push through the symlink fails and writes nothing outside
    const work = await workTree({ 'a.txt': 'a\n' });
    await expect(
      git(['push', '--quiet', `${server.url}/escape/r.git`, 'main'], work),
    ).rejects.toThrow();
    await expect(
      git(['push', '--quiet', `${server.url}/a/b.git/c.git`, 'main'], work),
    ).rejects.toThrow();
    expect(existsSync(join(outside, 'r.git'))).toBe(false);
    expect(existsSync(join(server.dataDir, 'a'))).toBe(false);
    // a symlink that stays inside the data dir is followed
    await mkdir(join(server.dataDir, 'real'), { recursive: true });
    await symlink(join(server.dataDir, 'real'), join(server.dataDir, 'alias'));
    await git(['push', '--quiet', `${server.url}/alias/r.git`, 'main'], work);
    expect(existsSync(join(server.dataDir, 'real', 'r.git', 'HEAD'))).toBe(true);
    await rm(work, { recursive: true, force: true });
  });

  test('an unknown service or path is refused', async () => {
    const res = await fetch(`${server.url}/user1/repo1.git/info/refs?service=git-upload-archive`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ERR_GITSERVER_BAD_REQUEST' });
    const other = await fetch(`${server.url}/user1/repo1.git/objects/info/packs`);
    expect(other.status).toBe(404);
  });

  test('a gzip-encoded upload-pack request body is inflated', async () => {
    const work = await workTree({ 'g.txt': 'gzip\n' });
    const remote = `${server.url}/user1/gz.git`;
    await git(['push', '--quiet', remote, 'main'], work);
    const sha = (await git(['rev-parse', 'HEAD'], work)).trim();
    const want = `want ${sha}\n`;
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const body = gzipSync(Buffer.from(`${pkt(want)}0000${pkt('done\n')}`));
    const res = await fetch(`${remote}/git-upload-pack`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    const out = Buffer.from(await res.arrayBuffer()).toString('latin1');
    expect(out.startsWith('0008NAK\n')).toBe(true);
    expect(out.slice(8, 12)).toBe('PACK');
    await rm(work, { recursive: true, force: true });
  });
});

describe('gitserver repository cleaner', () => {
  test('deletes branches and tags whose last commit expired, keeps newer ones, removes emptied repos', async () => {
    const server = await startGitserver({ repositoryRefsExpireIntervalMs: 10 * DAY_S * 1000 });
    try {
      const old = `@${Math.floor(Date.now() / 1000) - 40 * DAY_S} +0000`;
      const work = await workTree({ 'a.txt': 'a\n' }, { GIT_COMMITTER_DATE: old });
      await git(['tag', 'v-old'], work);
      await git(['checkout', '--quiet', '-b', 'fresh'], work);
      await writeFile(join(work, 'b.txt'), 'b\n');
      await git(['add', 'b.txt'], work);
      await git(['commit', '--quiet', '-m', 'fresh'], work);
      await git(['tag', '-a', '-m', 'annotated', 'v-new'], work);
      const mixed = `${server.url}/u/mixed.git`;
      await git(['push', '--quiet', mixed, 'main', 'fresh', 'v-old', 'v-new'], work);
      await git(['push', '--quiet', `${server.url}/u/allold.git`, 'main', 'v-old'], work);

      const result = await server.gs.cleanNow();
      expect(result.deletedRefs.map((r) => r.slice(r.lastIndexOf(':') + 1)).sort()).toEqual([
        'refs/heads/main',
        'refs/heads/main',
        'refs/tags/v-old',
        'refs/tags/v-old',
      ]);
      const refs = (await git(['ls-remote', mixed], work))
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[1]);
      expect(refs).toEqual(['refs/heads/fresh', 'refs/tags/v-new', 'refs/tags/v-new^{}']);
      expect(existsSync(join(server.dataDir, 'u', 'allold.git'))).toBe(false);
      expect(existsSync(join(server.dataDir, 'u', 'mixed.git'))).toBe(true);
      await rm(work, { recursive: true, force: true });
    } finally {
      await server.stop();
    }
  });

  test('the cleaner runs on its interval and stops with the server', async () => {
    const server = await startGitserver({
      repositoryCleanupIntervalMs: 100,
      repositoryRefsExpireIntervalMs: DAY_S * 1000,
    });
    try {
      const old = `@${Math.floor(Date.now() / 1000) - 2 * DAY_S} +0000`;
      const work = await workTree({ 'a.txt': 'a\n' }, { GIT_COMMITTER_DATE: old });
      await git(['push', '--quiet', `${server.url}/u/timer.git`, 'main'], work);
      const repo = join(server.dataDir, 'u', 'timer.git');
      for (let i = 0; i < 300 && existsSync(repo); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(repo)).toBe(false);
      await server.gs.stop();
      // after the stop, no pass touches the data dir any more
      await git(['init', '--quiet', '--bare', join(server.dataDir, 'u', 'after.git')], work);
      await git(['push', '--quiet', join(server.dataDir, 'u', 'after.git'), 'main'], work);
      await new Promise((r) => setTimeout(r, 400));
      expect(existsSync(join(server.dataDir, 'u', 'after.git', 'refs'))).toBe(true);
      expect(
        (await git(['--git-dir', join(server.dataDir, 'u', 'after.git'), 'branch'], work)).trim(),
      ).toBe('main');
      await rm(work, { recursive: true, force: true });
    } finally {
      await server.stop();
    }
  });
});

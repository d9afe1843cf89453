import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startForge, type Forge } from '../src/index.js';

const run = promisify(execFile);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, received, server };
}

describe('forge simulator (gitea)', () => {
  let forge: Forge;
  let token: string;
  beforeAll(async () => {
    forge = await startForge({ type: 'gitea' });
    token = forge.addUser({ login: 'alice', password: 'pw' }).token;
    await forge.createRepo({ owner: 'alice', name: 'repo' });
  });
  afterAll(async () => {
    await forge.stop();
  });

  test('a commit is served by git http-backend to a real git clone', async () => {
    const sha = await forge.commit({
      repo: 'alice/repo',
      files: { 'a/b.txt': 'hello' },
      message: 'first',
    });
    const dir = await mkdtemp(join(tmpdir(), 'forge-clone-'));
    try {
      await run('git', ['clone', '--quiet', `${forge.url}/alice/repo.git`, dir]);
      expect(await readFile(join(dir, 'a/b.txt'), 'utf8')).toBe('hello');
      const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd: dir });
      expect(stdout.trim()).toBe(sha);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an anonymous push is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-push-'));
    try {
      await run('git', ['clone', '--quiet', `${forge.url}/alice/repo.git`, dir]);
      await run(
        'git',
        ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--allow-empty', '-qm', 'x'],
        { cwd: dir },
      );
      await expect(
        run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], {
          cwd: dir,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        }),
      ).rejects.toThrow(/Authentication failed|could not read Username|401/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a push delivers a signed push webhook to a registered hook', async () => {
    const hook = await receiver();
    try {
      const res = await fetch(`${forge.apiURL}/api/v1/repos/alice/repo/hooks`, {
        method: 'POST',
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'gitea',
          config: { url: hook.url, content_type: 'json', secret: 's3cret' },
          events: ['push'],
          active: true,
        }),
      });
      expect(res.status).toBe(201);
      const before = Date.now();
      const sha = await forge.commit({
        repo: 'alice/repo',
        files: { 'c.txt': 'c' },
        message: 'second',
      });
      expect(hook.received).toHaveLength(1);
      // when the delivery was sent and how long the receiver took
      const delivery = forge.deliveries.at(-1)!;
      expect(delivery.sentAt).toBeGreaterThanOrEqual(before);
      expect(delivery.sentAt).toBeLessThanOrEqual(Date.now());
      expect(delivery.durationMs).toBeGreaterThanOrEqual(0);
      expect(delivery.sentAt + delivery.durationMs).toBeLessThanOrEqual(Date.now() + 1);
      const got = hook.received[0]!;
      expect(got.headers['x-gitea-event']).toBe('push');
      expect(got.headers['x-gitea-signature']).toBe(
        createHmac('sha256', 's3cret').update(got.body).digest('hex'),
      );
      const payload = JSON.parse(got.body) as {
        ref: string;
        after: string;
        commits: { message: string }[];
      };
      expect(payload.ref).toBe('refs/heads/main');
      expect(payload.after).toBe(sha);
      expect(payload.commits.map((c) => c.message.trim())).toEqual(['second']);
      expect(forge.deliveries.at(-1)?.status).toBe(200);
    } finally {
      hook.server.close();
    }
  });

  test('a malformed escape in a git path is a 400, and the server keeps serving', async () => {
    const res = await fetch(`${forge.url}/alice/%E0%A4%A.git/raw/main/a`);
    expect(res.status).toBe(400);
    const raw = await fetch(`${forge.url}/alice/repo.git/raw/main/a/%ZZ`);
    expect(raw.status).toBe(400);
    expect((await fetch(`${forge.url}/alice/repo.git/raw/main/a/b.txt`)).status).toBe(200);
  });

  test('API errors have the provider shape: 401 without a token, 404 for a missing repo', async () => {
    const unauth = await fetch(`${forge.apiURL}/api/v1/user`);
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({ message: expect.any(String) });
    const missing = await fetch(`${forge.apiURL}/api/v1/repos/alice/nope`, {
      headers: { authorization: `token ${token}` },
    });
    expect(missing.status).toBe(404);
  });
});

describe('forge simulator options', () => {
  test('sshURLAsHTTP reports the HTTP clone URL as the SSH URL, in the API and in webhooks', async () => {
    const forge = await startForge({ type: 'github', sshURLAsHTTP: true });
    const hook = await receiver();
    try {
      const { token } = forge.addUser({ login: 'carol' });
      const repo = await forge.createRepo({ owner: 'carol', name: 'r' });
      expect(repo.sshURL).toBe(`${forge.url}/carol/r.git`);
      const res = await fetch(`${forge.apiURL}/repos/carol/r`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await res.json()) as { ssh_url: string }).ssh_url).toBe(repo.cloneURL);
      await fetch(`${forge.apiURL}/repos/carol/r/hooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ config: { url: hook.url, content_type: 'json' }, events: ['push'] }),
      });
      await forge.commit({ repo: 'carol/r', files: { a: 'a' } });
      const payload = JSON.parse(hook.received[0]!.body) as { repository: { ssh_url: string } };
      expect(payload.repository.ssh_url).toBe(repo.cloneURL);
      // and git can clone it
      const dir = await mkdtemp(join(tmpdir(), 'forge-ssh-'));
      try {
        await run('git', ['clone', '--quiet', payload.repository.ssh_url, dir]);
        expect(await readFile(join(dir, 'a'), 'utf8')).toBe('a');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      hook.server.close();
      await forge.stop();
    }
  });
});

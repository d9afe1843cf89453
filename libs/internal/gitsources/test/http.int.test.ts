import { createServer, type RequestListener, type Server } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { createGitSource } from '../src/index.js';
import { caught } from './helpers.js';

// Misbehaving servers (real sockets) for the failure paths a forge simulator does not show.
let servers: Server[] = [];
async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  servers = [];
});

describe('git source HTTP failure paths', () => {
  test('a server that never answers times out with ERR_GITSOURCE_REQUEST_FAILED', async () => {
    const url = await serve(() => undefined);
    const err = await caught(() =>
      createGitSource({ type: 'gitea', apiURL: url, token: 't', timeoutMs: 300 }).getUserInfo(),
    );
    expect(err.code).toBe('ERR_GITSOURCE_REQUEST_FAILED');
    expect(err.message).toContain('no answer within 300 ms');
  });

  test('an aborted signal stops the request', async () => {
    const url = await serve(() => undefined);
    const ac = new AbortController();
    const pending = caught(() =>
      createGitSource({ type: 'gitlab', apiURL: url, token: 't' }).getUserInfo({
        signal: ac.signal,
      }),
    );
    setTimeout(() => ac.abort(), 50);
    const err = await pending;
    expect(err.code).toBe('ERR_GITSOURCE_REQUEST_FAILED');
    expect(err.message).not.toContain('no answer within');
  });

  test('a 500 is ERR_GITSOURCE_REMOTE with the provider message; the query string is never in it', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ message: 'database is locked' }));
    });
    const err = await caught(() =>
      createGitSource({ type: 'gitea', apiURL: url, token: 'secret-token' }).getFile(
        'a/b',
        'sha-x',
        'f.yml',
      ),
    );
    expect(err).toMatchObject({ code: 'ERR_GITSOURCE_REMOTE', status: 500 });
    expect(err.message).toContain('database is locked');
    expect(err.message).not.toContain('sha-x');
    expect(err.message).not.toContain('secret-token');
  });

  test('a 2xx answer that is not JSON is ERR_GITSOURCE_BAD_RESPONSE', async () => {
    const url = await serve((_req, res) => res.end('<html>proxy login</html>'));
    const err = await caught(() =>
      createGitSource({ type: 'github', apiURL: url, token: 't' }).getRepoInfo('a/b'),
    );
    expect(err.code).toBe('ERR_GITSOURCE_BAD_RESPONSE');
  });

  test('a next-page link to another origin is refused (the token stays home)', async () => {
    let otherHits = 0;
    const other = await serve((_req, res) => {
      otherHits++;
      res.end('[]');
    });
    const url = await serve((_req, res) => {
      res.setHeader('link', `<${other}/api/v1/user/repos?page=2>; rel="next"`);
      res.end(
        JSON.stringify([{ id: 1, name: 'r', owner: { login: 'o' }, permissions: { admin: true } }]),
      );
    });
    const err = await caught(() =>
      createGitSource({ type: 'gitea', apiURL: url, token: 't' }).listUserRepos(),
    );
    expect(err.code).toBe('ERR_GITSOURCE_BAD_RESPONSE');
    expect(otherHits).toBe(0);
  });

  test('a redirect is not followed', async () => {
    let otherHits = 0;
    const other = await serve((_req, res) => {
      otherHits++;
      res.end('{}');
    });
    const url = await serve((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', `${other}/api/v3/user`);
      res.end();
    });
    const err = await caught(() =>
      createGitSource({ type: 'github', apiURL: url, token: 't' }).getUserInfo(),
    );
    expect(err).toMatchObject({ code: 'ERR_GITSOURCE_REMOTE', status: 302 });
    expect(otherHits).toBe(0);
  });

  test('a file path or ref with a .. segment is refused before any request', async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.end('x');
    });
    const gitea = createGitSource({ type: 'gitea', apiURL: url, token: 't' });
    expect((await caught(() => gitea.getFile('a/b', 'main', '../../user'))).code).toBe(
      'ERR_GITSOURCE_INVALID_REPO_PATH',
    );
    const agolagit = createGitSource({ type: 'agolagit', url });
    expect((await caught(() => agolagit.getFile('u/r', '..', 'x'))).code).toBe(
      'ERR_GITSOURCE_INVALID_REPO_PATH',
    );
    expect(hits).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  startForge,
  type Forge,
  type ForgeRepoInfo,
  type ForgeType,
  type ForgeUserInfo,
} from '@agola-ts/testkit';
import {
  createGitSource,
  isGitSourceNotExist,
  type GiteaSource,
  type GitHubSource,
  type GitLabSource,
} from '../src/index.js';
import { caught, fakeKey, startReceiver, type Receiver } from './helpers.js';

type Source = GiteaSource | GitHubSource | GitLabSource;

/** What differs between providers in the shared scenarios. */
export interface ProviderFacts {
  /** The pull request ref of PR 1. */
  prRef: string;
  /** The provider's state name for Agola's `failed`. */
  failedState: string;
  /** The provider's state name for Agola's `error`. */
  errorState: string;
}

export interface GitSourceSuite {
  forge: () => Forge;
  alice: () => ForgeUserInfo;
  source: (token?: string, extra?: Record<string, unknown>) => Source;
}

/**
 * The scenarios every forge-backed git source must pass, run against the forge simulator of
 * that type (real HTTP, real git repositories, real signed webhooks).
 */
export function describeGitSource(
  type: ForgeType,
  facts: ProviderFacts,
  more?: (suite: GitSourceSuite) => void,
): void {
  describe(`${type} git source`, () => {
    let forge: Forge;
    let alice: ForgeUserInfo;
    let bob: ForgeUserInfo;
    let first: string;
    let second: string;
    let repoInfo: ForgeRepoInfo;
    const source = (token?: string, extra: Record<string, unknown> = {}): Source =>
      createGitSource({
        type,
        apiURL: forge.apiURL,
        token: token ?? alice.token,
        ...extra,
      } as never) as Source;

    beforeAll(async () => {
      forge = await startForge({ type });
      alice = forge.addUser({ login: 'alice', password: 'alice-pw' });
      bob = forge.addUser({ login: 'bob', password: 'bob-pw' });
      repoInfo = await forge.createRepo({ owner: 'alice', name: 'repo' });
      first = await forge.commit({
        repo: 'alice/repo',
        files: { '.agola/config.yml': 'version: v0\n', 'dir/a b.txt': 'spaced' },
        message: 'first commit\n\nbody',
      });
      second = await forge.commit({
        repo: 'alice/repo',
        files: { '.agola/config.yml': 'version: v0\nruns: []\n' },
        message: 'second commit',
      });
    });
    afterAll(async () => {
      await forge?.stop();
    });

    test('getRepoInfo gives the id, path and clone URLs', async () => {
      const info = await source().getRepoInfo('alice/repo');
      expect(info).toEqual({
        id: String(repoInfo.id),
        path: 'alice/repo',
        htmlURL: repoInfo.htmlURL,
        sshCloneURL: repoInfo.sshURL,
        httpCloneURL: repoInfo.cloneURL,
      });
      expect(repoInfo.htmlURL).toBe(`${forge.url}/alice/repo`);
    });

    test('getFile reads a file at a commit, not at the branch head', async () => {
      const s = source();
      expect((await s.getFile('alice/repo', first, '.agola/config.yml')).toString()).toBe(
        'version: v0\n',
      );
      expect((await s.getFile('alice/repo', second, '.agola/config.yml')).toString()).toBe(
        'version: v0\nruns: []\n',
      );
      expect((await s.getFile('alice/repo', second, 'dir/a b.txt')).toString()).toBe('spaced');
    });

    test('a missing file, repo or commit is ERR_GITSOURCE_NOT_EXIST with the 404', async () => {
      const s = source();
      const file = await caught(() => s.getFile('alice/repo', second, '.agola/config.jsonnet'));
      expect(file.code).toBe('ERR_GITSOURCE_NOT_EXIST');
      expect(file.status).toBe(404);
      const repo = await caught(() => s.getRepoInfo('alice/nope'));
      expect(isGitSourceNotExist(repo)).toBe(true);
      const commit = await caught(() => s.getCommit('alice/repo', 'f'.repeat(40)));
      expect(commit.code).toBe('ERR_GITSOURCE_NOT_EXIST');
    });

    test('a bad token is ERR_GITSOURCE_UNAUTHORIZED and the message never shows it', async () => {
      const err = await caught(() => source('not-a-token').getUserInfo());
      expect(err.code).toBe('ERR_GITSOURCE_UNAUTHORIZED');
      expect(err.status).toBe(401);
      expect(err.message).not.toContain('not-a-token');
    });

    test('a user without admin rights gets ERR_GITSOURCE_FORBIDDEN on deploy keys', async () => {
      const err = await caught(() =>
        source(bob.token).createDeployKey('alice/repo', 't', fakeKey(9), true),
      );
      expect(err.code).toBe('ERR_GITSOURCE_FORBIDDEN');
      expect(err.status).toBe(403);
    });

    test('an unreachable server is ERR_GITSOURCE_REQUEST_FAILED', async () => {
      const s = createGitSource({
        type,
        apiURL: 'http://127.0.0.1:1',
        token: 'x',
        timeoutMs: 2000,
      } as never) as Source;
      const err = await caught(() => s.getUserInfo());
      expect(err.code).toBe('ERR_GITSOURCE_REQUEST_FAILED');
    });

    test('getUserInfo names the token owner', async () => {
      expect(await source().getUserInfo()).toEqual({
        id: String(alice.id),
        loginName: 'alice',
        email: alice.email,
      });
    });

    test('deploy keys: create, update in place, replace, delete', async () => {
      const s = source();
      const title = 'agola deploy key - p1';
      await s.createDeployKey('alice/repo', title, fakeKey(1), true);
      const created = forge.deployKeys('alice/repo');
      expect(created.map((k) => [k.title, k.key, k.readOnly])).toEqual([[title, fakeKey(1), true]]);
      const id = created[0]!.id;
      await s.updateDeployKey('alice/repo', title, fakeKey(1), true);
      expect(forge.deployKeys('alice/repo').map((k) => k.id)).toEqual([id]);
      await s.updateDeployKey('alice/repo', title, fakeKey(2), true);
      const replaced = forge.deployKeys('alice/repo');
      expect(replaced.map((k) => k.key)).toEqual([fakeKey(2)]);
      expect(replaced[0]!.id).not.toBe(id);
      await s.deleteDeployKey('alice/repo', title);
      expect(forge.deployKeys('alice/repo')).toEqual([]);
    });

    describe('webhooks', () => {
      let hook: Receiver;
      const secret = 'webhook-secret-1';
      beforeAll(async () => {
        hook = await startReceiver();
        await source().createRepoWebhook('alice/repo', hook.url, secret);
      });
      afterAll(async () => {
        await hook?.close();
      });

      test('the webhook is registered, and deleting another URL keeps it', async () => {
        expect(forge.hooks('alice/repo').map((h) => h.url)).toEqual([hook.url]);
        await source().deleteRepoWebhook('alice/repo', `${hook.url}&other=1`);
        expect(forge.hooks('alice/repo')).toHaveLength(1);
      });

      test('a push is delivered, verified and parsed', async () => {
        const before = hook.received.length;
        const sha = await forge.commit({
          repo: 'alice/repo',
          files: { 'x.txt': '1' },
          message: 'push it',
        });
        expect(hook.received.length).toBe(before + 1);
        const got = hook.received.at(-1)!;
        const data = source().parseWebhook(got, secret);
        expect(data).toMatchObject({
          event: 'push',
          commitSHA: sha,
          ref: 'refs/heads/main',
          branch: 'main',
          message: expect.stringMatching(/^push it\n?$/),
          sender: 'alice',
          repo: { path: 'alice/repo', webURL: `${forge.url}/alice/repo` },
          sshURL: repoInfo.sshURL,
        });
        expect(data?.branchLink).toContain('main');
        expect(data?.commitLink).toContain(sha);
      });

      test('a wrong secret, a tampered body and a missing signature are rejected', async () => {
        const got = hook.received.at(-1)!;
        const s = source();
        expect((await caught(() => s.parseWebhook(got, 'other-secret'))).code).toBe(
          'ERR_GITSOURCE_WEBHOOK_SIGNATURE',
        );
        const tampered = Buffer.from(got.body.toString().replace('push it', 'push IT'));
        if (type === 'gitlab') {
          // GitLab sends the secret instead of a signature: a changed body cannot be detected
          expect(s.parseWebhook({ headers: got.headers, body: tampered }, secret)?.message).toMatch(
            /^push IT/,
          );
        } else {
          const tamperedErr = await caught(() =>
            s.parseWebhook({ headers: got.headers, body: tampered }, secret),
          );
          expect(tamperedErr.code).toBe('ERR_GITSOURCE_WEBHOOK_SIGNATURE');
        }
        const headers = Object.fromEntries(
          Object.entries(got.headers).filter(([k]) => !/signature|token/i.test(k)),
        );
        expect((await caught(() => s.parseWebhook({ headers, body: got.body }, secret))).code).toBe(
          'ERR_GITSOURCE_WEBHOOK_SIGNATURE',
        );
      });

      test('an unknown event or a non-JSON body is ERR_GITSOURCE_WEBHOOK_INVALID', async () => {
        const got = hook.received.at(-1)!;
        const eventHeader = Object.keys(got.headers).find((k) => k === `x-${type}-event`)!;
        const err = await caught(() =>
          source().parseWebhook(
            { headers: { ...got.headers, [eventHeader]: 'issues' }, body: got.body },
            secret,
          ),
        );
        expect(err.code).toBe('ERR_GITSOURCE_WEBHOOK_INVALID');
        const junk = await caught(() =>
          source().parseWebhook({ headers: got.headers, body: 'not json' }, ''),
        );
        expect(junk.code).toBe('ERR_GITSOURCE_WEBHOOK_INVALID');
      });

      test('a tag push is a tag event', async () => {
        const sha = await forge.tag({ repo: 'alice/repo', tag: 'v1.0' });
        const data = source().parseWebhook(hook.received.at(-1)!, secret);
        expect(data).toMatchObject({
          event: 'tag',
          tag: 'v1.0',
          ref: 'refs/tags/v1.0',
          message: 'Tag v1.0',
          commitSHA: sha,
        });
      });

      test('pull requests: same repo and fork', async () => {
        const sha = await forge.commit({
          repo: 'alice/repo',
          branch: 'feature',
          files: { 'f.txt': 'f' },
          message: 'feat',
        });
        const pr = await forge.openPullRequest({
          repo: 'alice/repo',
          head: 'feature',
          title: 'Add feature',
        });
        const data = source().parseWebhook(hook.received.at(-1)!, secret);
        expect(data).toMatchObject({
          event: 'pull_request',
          commitSHA: sha,
          ref: facts.prRef.replace('1', String(pr.number)),
          pullRequestID: String(pr.number),
          message: 'Add feature',
          prFromSameRepo: true,
        });
        expect(source().refType(data!.ref)).toEqual({
          type: 'pull_request',
          name: String(pr.number),
        });
        await forge.openPullRequest({
          repo: 'alice/repo',
          head: 'feature',
          title: 'From a fork',
          fromFork: true,
        });
        const fork = source().parseWebhook(hook.received.at(-1)!, secret);
        expect(fork).toMatchObject({
          event: 'pull_request',
          prFromSameRepo: false,
          message: 'From a fork',
        });
        // a push to the head branch updates both pull requests: a push event and two
        // pull request events with the new commit (deliveries may arrive in any order)
        const before = hook.received.length;
        const next = await forge.commit({
          repo: 'alice/repo',
          branch: 'feature',
          files: { 'f.txt': 'f2' },
          message: 'more',
        });
        const parsed = hook.received.slice(before).map((r) => source().parseWebhook(r, secret));
        expect(
          parsed.map((d) => [d?.event, d?.commitSHA, d?.prFromSameRepo ?? null]).sort(),
        ).toEqual(
          [
            ['pull_request', next, false],
            ['pull_request', next, true],
            ['push', next, null],
          ].sort(),
        );
      });

      test('after deleteRepoWebhook a push delivers nothing', async () => {
        await source().deleteRepoWebhook('alice/repo', hook.url);
        expect(forge.hooks('alice/repo')).toEqual([]);
        const before = hook.received.length;
        await forge.commit({ repo: 'alice/repo', files: { 'y.txt': '2' } });
        expect(hook.received.length).toBe(before);
      });
    });

    test('commit statuses are set and read back, newest first', async () => {
      const s = source();
      await s.createCommitStatus('alice/repo', second, 'pending', {
        context: 'agola/repo/run',
        description: 'The run is pending',
        targetURL: 'http://agola.example/run?projectref=p1&runnumber=1',
      });
      await s.createCommitStatus('alice/repo', second, 'failed', {
        context: 'agola/repo/run',
        description: 'The run failed',
      });
      await s.createCommitStatus('alice/repo', second, 'error', { context: 'agola/repo/other' });
      const statuses = await s.listCommitStatuses('alice/repo', second);
      expect(statuses.map((x) => [x.providerState, x.context])).toEqual([
        [facts.errorState, 'agola/repo/other'],
        [facts.failedState, 'agola/repo/run'],
        ['pending', 'agola/repo/run'],
      ]);
      expect(statuses[1]).toMatchObject({ state: 'failed', description: 'The run failed' });
      expect(statuses[2]).toMatchObject({
        state: 'pending',
        targetURL: 'http://agola.example/run?projectref=p1&runnumber=1',
      });
      expect(forge.statuses('alice/repo').filter((x) => x.sha === second)).toHaveLength(3);
    });

    test('listUserRepos follows every page and keeps only admin repos', async () => {
      for (let i = 0; i < 5; i++) await forge.createRepo({ owner: 'alice', name: `many-${i}` });
      await forge.createRepo({ owner: 'bob', name: 'shared-admin', members: { alice: 'admin' } });
      await forge.createRepo({ owner: 'bob', name: 'shared-write', members: { alice: 'write' } });
      await forge.createRepo({ owner: 'bob', name: 'private', private: true });
      const repos = await source(undefined, { pageSize: 2 }).listUserRepos();
      expect(repos.map((r) => r.path).sort()).toEqual(
        [
          'alice/many-0',
          'alice/many-1',
          'alice/many-2',
          'alice/many-3',
          'alice/many-4',
          'alice/repo',
          'bob/shared-admin',
        ].sort(),
      );
    });

    test('getRef, refType and getCommit', async () => {
      const s = source();
      const head = await forge.commit({
        repo: 'alice/repo',
        branch: 'feature',
        files: { 'g.txt': 'g' },
      });
      expect(await s.getRef('alice/repo', 'refs/heads/feature')).toEqual({
        ref: 'refs/heads/feature',
        commitSHA: head,
      });
      const tag = await s.getRef('alice/repo', 'refs/tags/v1.0');
      expect(tag.commitSHA).toMatch(/^[0-9a-f]{40}$/);
      expect((await caught(() => s.getRef('alice/repo', 'refs/heads/nope'))).code).toBe(
        'ERR_GITSOURCE_NOT_EXIST',
      );
      expect(s.refType('refs/heads/a/b')).toEqual({ type: 'branch', name: 'a/b' });
      expect(s.refType('refs/tags/v1')).toEqual({ type: 'tag', name: 'v1' });
      expect((await caught(() => s.refType('refs/notes/x'))).code).toBe(
        'ERR_GITSOURCE_UNSUPPORTED_REF',
      );
      expect(await s.getCommit('alice/repo', first)).toEqual({
        sha: first,
        message: expect.stringMatching(/^first commit\n\nbody\n?$/),
      });
      expect(s.refType(s.pullRequestRef('7'))).toEqual({ type: 'pull_request', name: '7' });
      expect(s.refType(s.branchRef('x'))).toEqual({ type: 'branch', name: 'x' });
    });

    describe('oauth2', () => {
      const callback = 'http://agola.example/oauth2/callback';
      let app: { clientId: string; clientSecret: string };
      const oauthSource = (token?: string) =>
        source(token, { oauth2ClientID: app.clientId, oauth2ClientSecret: app.clientSecret });
      const authorize = async (url: string): Promise<URL> => {
        const res = await fetch(url, {
          redirect: 'manual',
          headers: { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` },
        });
        expect(res.status).toBe(302);
        return new URL(res.headers.get('location')!);
      };
      beforeAll(() => {
        app = forge.addOAuth2App({ redirectURI: callback });
      });

      test('authorize, exchange the code, use and refresh the token', async () => {
        const url = new URL(oauthSource().getOAuth2AuthorizationURL(callback, 'state-123'));
        expect(url.searchParams.get('client_id')).toBe(app.clientId);
        expect(url.searchParams.get('redirect_uri')).toBe(callback);
        expect(url.searchParams.get('response_type')).toBe('code');
        const back = await authorize(url.toString());
        expect(`${back.origin}${back.pathname}`).toBe(callback);
        expect(back.searchParams.get('state')).toBe('state-123');
        const code = back.searchParams.get('code')!;
        const token = await oauthSource().requestOAuth2Token(callback, code);
        expect(token.refreshToken).toBeTruthy();
        expect(token.expiresAt!.getTime()).toBeGreaterThan(Date.now());
        expect((await oauthSource(token.accessToken).getUserInfo()).loginName).toBe('alice');
        // the code was used
        expect((await caught(() => oauthSource().requestOAuth2Token(callback, code))).code).toBe(
          'ERR_GITSOURCE_OAUTH2',
        );
        // an expired access token is refused, a refreshed one works
        forge.expireToken(token.accessToken);
        expect((await caught(() => oauthSource(token.accessToken).getUserInfo())).code).toBe(
          'ERR_GITSOURCE_UNAUTHORIZED',
        );
        const refreshed = await oauthSource().refreshOAuth2Token(token.refreshToken!);
        expect(refreshed.accessToken).not.toBe(token.accessToken);
        expect((await oauthSource(refreshed.accessToken).getUserInfo()).loginName).toBe('alice');
        // refresh tokens rotate
        const reuse = await caught(() => oauthSource().refreshOAuth2Token(token.refreshToken!));
        expect(reuse.code).toBe('ERR_GITSOURCE_OAUTH2');
        expect(reuse.message).not.toContain(token.refreshToken!);
      });

      test('a wrong client secret is refused', async () => {
        const back = await authorize(oauthSource().getOAuth2AuthorizationURL(callback, 's'));
        const bad = source(undefined, {
          oauth2ClientID: app.clientId,
          oauth2ClientSecret: 'wrong',
        });
        const err = await caught(() =>
          bad.requestOAuth2Token(callback, back.searchParams.get('code')!),
        );
        expect(err.code).toBe('ERR_GITSOURCE_OAUTH2');
        expect(err.message).not.toContain('wrong');
      });

      test('without a configured client the oauth2 calls fail with ERR_GITSOURCE_INVALID_CONFIG', async () => {
        expect((await caught(() => source().getOAuth2AuthorizationURL(callback, 's'))).code).toBe(
          'ERR_GITSOURCE_INVALID_CONFIG',
        );
      });
    });

    more?.({ forge: () => forge, alice: () => alice, source });
  });
}

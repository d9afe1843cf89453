import { createHmac } from 'node:crypto';
import { expect, test } from 'vitest';
import { createGitHubSource } from '../src/index.js';
import { describeGitSource } from './describe-git-source.js';
import { caught } from './helpers.js';

describeGitSource(
  'github',
  { prRef: 'refs/pull/1/head', failedState: 'failure', errorState: 'error' },
  (suite) => {
    test('the legacy X-Hub-Signature (SHA-1) is checked when the SHA-256 one is absent', () => {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        after: 'a'.repeat(40),
        compare: 'c',
        head_commit: { id: 'a'.repeat(40), message: 'm' },
        repository: {
          name: 'r',
          html_url: 'https://gh/o/r',
          ssh_url: 'git@gh:o/r.git',
          owner: { login: 'o' },
        },
        sender: { login: 'o' },
      });
      const sig = `sha1=${createHmac('sha1', 's').update(body).digest('hex')}`;
      const s = suite.source();
      expect(
        s.parseWebhook(
          { headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature': sig }, body },
          's',
        ),
      ).toMatchObject({
        event: 'push',
        branch: 'main',
        repo: { path: 'o/r' },
      });
      expect(() =>
        s.parseWebhook(
          {
            headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature': sig.replace(/.$/, '0') },
            body,
          },
          's',
        ),
      ).toThrow(expect.objectContaining({ code: 'ERR_GITSOURCE_WEBHOOK_SIGNATURE' }));
    });

    test('the OAuth2 pages of a GitHub Enterprise server are at the server root', () => {
      const s = createGitHubSource({
        apiURL: 'https://ghe.example.com',
        oauth2ClientID: 'id',
        oauth2ClientSecret: 'x',
      });
      expect(s.getOAuth2AuthorizationURL('https://agola/cb', 'st')).toMatch(
        /^https:\/\/ghe\.example\.com\/login\/oauth\/authorize\?client_id=id&redirect_uri=https%3A%2F%2Fagola%2Fcb&response_type=code&scope=repo&state=st$/,
      );
      const pub = createGitHubSource({
        apiURL: 'https://api.github.com',
        oauth2ClientID: 'id',
        oauth2ClientSecret: 'x',
      });
      expect(pub.getOAuth2AuthorizationURL('https://agola/cb', 'st')).toMatch(
        /^https:\/\/github\.com\/login\/oauth\/authorize\?/,
      );
    });

    test('a repo path that is not owner/name is refused', async () => {
      expect((await caught(() => suite.source().getFile('alice', 'main', 'x'))).code).toBe(
        'ERR_GITSOURCE_INVALID_REPO_PATH',
      );
    });
  },
);

import { expect, test } from 'vitest';
import { describeGitSource } from './describe-git-source.js';

describeGitSource(
  'gitlab',
  { prRef: 'refs/merge-requests/1/head', failedState: 'failed', errorState: 'failed' },
  (suite) => {
    test('a project is addressed by its URL-encoded path, and the API URL may end in /api/v4', async () => {
      const s = suite.source(undefined, { apiURL: `${suite.forge().url}/api/v4` });
      expect((await s.getRepoInfo('alice/repo')).path).toBe('alice/repo');
    });

    test('a webhook without a secret configured is accepted without a token', () => {
      const body = JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/main',
        after: 'b'.repeat(40),
        checkout_sha: 'b'.repeat(40),
        user_username: 'u',
        project: {
          web_url: 'https://gl/g/r',
          git_ssh_url: 'git@gl:g/r.git',
          path_with_namespace: 'g/r',
        },
        commits: [{ id: 'b'.repeat(40), message: 'msg', url: 'https://gl/g/r/-/commit/b' }],
      });
      expect(
        suite.source().parseWebhook({ headers: { 'x-gitlab-event': 'Push Hook' }, body }, ''),
      ).toMatchObject({
        event: 'push',
        message: 'msg',
        sender: 'u',
        repo: { path: 'g/r' },
      });
      // a branch deletion has nothing to build
      const deletion = body.replace(/"after":"b+"/, `"after":"${'0'.repeat(40)}"`);
      expect(
        suite
          .source()
          .parseWebhook({ headers: { 'x-gitlab-event': 'Push Hook' }, body: deletion }, ''),
      ).toBeNull();
    });
  },
);

import { expect, test } from 'vitest';
import { createGiteaSource } from '../src/index.js';
import { describeGitSource } from './describe-git-source.js';
import { caught } from './helpers.js';

describeGitSource(
  'gitea',
  { prRef: 'refs/pull/1/head', failedState: 'failure', errorState: 'error' },
  (suite) => {
    test('password login creates an access token that works, again on a second login', async () => {
      const gitea = createGiteaSource({ apiURL: suite.forge().url });
      const token = await gitea.loginPassword('alice', 'alice-pw', 'agola-agola');
      expect(
        (await createGiteaSource({ apiURL: suite.forge().url, token }).getUserInfo()).loginName,
      ).toBe('alice');
      // Gitea never shows an existing token's value: the second login replaces the token
      const again = await gitea.loginPassword('alice', 'alice-pw', 'agola-agola');
      expect(again).not.toBe(token);
      expect(
        (await createGiteaSource({ apiURL: suite.forge().url, token: again }).getUserInfo())
          .loginName,
      ).toBe('alice');
      await expect(
        createGiteaSource({ apiURL: suite.forge().url, token }).getUserInfo(),
      ).rejects.toMatchObject({
        code: 'ERR_GITSOURCE_UNAUTHORIZED',
      });
    });

    test('a wrong password is ERR_GITSOURCE_UNAUTHORIZED without the password in the message', async () => {
      const gitea = createGiteaSource({ apiURL: suite.forge().url });
      const err = await caught(() => gitea.loginPassword('alice', 'wrong-pw-123', 'agola-agola'));
      expect(err.code).toBe('ERR_GITSOURCE_UNAUTHORIZED');
      expect(err.message).not.toContain('wrong-pw-123');
    });

    test('a repo path that is not owner/name is refused before any request', async () => {
      const err = await caught(() => suite.source().getRepoInfo('alice/repo/extra'));
      expect(err.code).toBe('ERR_GITSOURCE_INVALID_REPO_PATH');
      expect((await caught(() => suite.source().getRepoInfo('../x'))).code).toBe(
        'ERR_GITSOURCE_INVALID_REPO_PATH',
      );
    });

    test('links follow Gitea URLs', () => {
      const s = suite.source();
      const repo = {
        id: '1',
        path: 'a/b',
        htmlURL: 'https://g/a/b',
        sshCloneURL: '',
        httpCloneURL: '',
      };
      expect(s.commitLink(repo, 'abc')).toBe('https://g/a/b/commit/abc');
      expect(s.branchLink(repo, 'main')).toBe('https://g/a/b/src/branch/main');
      expect(s.tagLink(repo, 'v1')).toBe('https://g/a/b/src/tag/v1');
      expect(s.pullRequestLink(repo, '3')).toBe('https://g/a/b/pulls/3');
    });
  },
);

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startForge, type Forge } from '@agola-ts/testkit';
import { createAgolaGitSource, createGitSource } from '../src/index.js';
import { caught } from './helpers.js';

// The forge simulator also serves the git server's `GET /<repo>.git/raw/<ref>/<path>`.
describe('agolagit git source', () => {
  let forge: Forge;
  let sha: string;
  beforeAll(async () => {
    forge = await startForge({ type: 'gitea' });
    forge.addUser({ login: 'u1' });
    await forge.createRepo({ owner: 'u1', name: 'r1' });
    sha = await forge.commit({ repo: 'u1/r1', files: { '.agola/config.jsonnet': '{}' } });
  });
  afterAll(async () => {
    await forge?.stop();
  });

  test('getFile reads through the raw route; a missing file is ERR_GITSOURCE_NOT_EXIST', async () => {
    const git = createGitSource({ type: 'agolagit', url: forge.url });
    expect((await git.getFile('u1/r1', sha, '.agola/config.jsonnet')).toString()).toBe('{}');
    expect((await caught(() => git.getFile('u1/r1', sha, '.agola/config.yml'))).code).toBe(
      'ERR_GITSOURCE_NOT_EXIST',
    );
    expect((await caught(() => git.getFile('u1/../x', sha, 'a'))).code).toBe(
      'ERR_GITSOURCE_INVALID_REPO_PATH',
    );
  });

  test('refType uses the configured pull request regexes; the forge calls are no-ops', async () => {
    const git = createAgolaGitSource({
      url: forge.url,
      pullRequestRefRegexes: [/^refs\/pull\/(\d+)\/head$/],
    });
    expect(git.refType('refs/pull/12/head')).toEqual({ type: 'pull_request', name: '12' });
    expect(git.refType('refs/heads/main')).toEqual({ type: 'branch', name: 'main' });
    expect(() => createAgolaGitSource({ url: forge.url }).refType('refs/pull/12/head')).toThrow(
      expect.objectContaining({ code: 'ERR_GITSOURCE_UNSUPPORTED_REF' }),
    );
    await git.createDeployKey('u1/r1', 't', 'k', true);
    expect(await git.listUserRepos()).toEqual([]);
    expect(git.parseWebhook({ headers: {}, body: '' }, 's')).toBeNull();
  });
});

import { describe, expect, test } from 'vitest';
import { createGitSource } from './factory.js';

// Payload shapes the forge simulator does not send (closed or labelled pull requests, odd refs).
const gitea = createGitSource({ type: 'gitea', apiURL: 'http://gitea.invalid' });
const github = createGitSource({ type: 'github', apiURL: 'http://ghe.invalid' });
const gitlab = createGitSource({ type: 'gitlab', apiURL: 'http://gitlab.invalid' });

const pr = (state: string, action: string) =>
  JSON.stringify({
    action,
    number: 3,
    pull_request: { number: 3, state, title: 't', head: { sha: 'a'.repeat(40) }, base: {} },
    repository: { name: 'r', owner: { login: 'o' } },
    sender: { login: 'o' },
  });

const mr = (state: string, action: string) =>
  JSON.stringify({
    object_kind: 'merge_request',
    user: { username: 'u' },
    project: { path_with_namespace: 'g/r' },
    object_attributes: { iid: 3, state, action, title: 't', last_commit: { id: 'a'.repeat(40) } },
  });

describe('webhooks Agola ignores or refuses', () => {
  test('pull requests that are closed or bring no new commit give null', () => {
    expect(
      gitea.parseWebhook(
        { headers: { 'x-gitea-event': 'pull_request' }, body: pr('closed', 'closed') },
        '',
      ),
    ).toBeNull();
    expect(
      gitea.parseWebhook(
        { headers: { 'x-gitea-event': 'pull_request' }, body: pr('open', 'label_updated') },
        '',
      ),
    ).toBeNull();
    expect(
      github.parseWebhook(
        { headers: { 'x-github-event': 'pull_request' }, body: pr('open', 'labeled') },
        '',
      ),
    ).toBeNull();
    expect(
      github.parseWebhook(
        { headers: { 'x-github-event': 'pull_request' }, body: pr('closed', 'closed') },
        '',
      ),
    ).toBeNull();
    expect(
      gitlab.parseWebhook(
        { headers: { 'x-gitlab-event': 'Merge Request Hook' }, body: mr('merged', 'merge') },
        '',
      ),
    ).toBeNull();
    expect(
      gitlab.parseWebhook(
        { headers: { 'x-gitlab-event': 'Merge Request Hook' }, body: mr('opened', 'approved') },
        '',
      ),
    ).toBeNull();
  });

  test('the actions with new commits are kept, with each provider’s name for them', () => {
    expect(
      gitea.parseWebhook(
        { headers: { 'x-gitea-event': 'pull_request' }, body: pr('open', 'synchronized') },
        '',
      ),
    ).toMatchObject({
      event: 'pull_request',
      ref: 'refs/pull/3/head',
    });
    expect(
      github.parseWebhook(
        { headers: { 'x-github-event': 'pull_request' }, body: pr('open', 'synchronize') },
        '',
      ),
    ).toMatchObject({
      event: 'pull_request',
      pullRequestID: '3',
    });
    expect(
      gitlab.parseWebhook(
        { headers: { 'x-gitlab-event': 'Merge Request Hook' }, body: mr('opened', 'reopen') },
        '',
      ),
    ).toMatchObject({
      event: 'pull_request',
      ref: 'refs/merge-requests/3/head',
    });
  });

  test('a push to a ref that is neither a branch nor a tag is ERR_GITSOURCE_WEBHOOK_INVALID', () => {
    const body = JSON.stringify({
      ref: 'refs/notes/commits',
      after: 'a'.repeat(40),
      repository: {},
      sender: {},
      project: {},
    });
    expect(() => gitea.parseWebhook({ headers: { 'x-gitea-event': 'push' }, body }, '')).toThrow(
      expect.objectContaining({ code: 'ERR_GITSOURCE_WEBHOOK_INVALID' }),
    );
    expect(() => github.parseWebhook({ headers: { 'x-github-event': 'push' }, body }, '')).toThrow(
      expect.objectContaining({ code: 'ERR_GITSOURCE_WEBHOOK_INVALID' }),
    );
    expect(() =>
      gitlab.parseWebhook({ headers: { 'x-gitlab-event': 'Push Hook' }, body }, ''),
    ).toThrow(expect.objectContaining({ code: 'ERR_GITSOURCE_WEBHOOK_INVALID' }));
  });

  test('a JSON body that is not an object is ERR_GITSOURCE_WEBHOOK_INVALID', () => {
    for (const body of ['null', '[]', '"x"', '{"a":']) {
      expect(() => gitea.parseWebhook({ headers: { 'x-gitea-event': 'push' }, body }, '')).toThrow(
        expect.objectContaining({ code: 'ERR_GITSOURCE_WEBHOOK_INVALID' }),
      );
    }
  });
});

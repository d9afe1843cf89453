import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createGitSource } from './factory.js';
import { hmacMatches, header, parseRef, trimTrailingSlashes } from './common.js';
import { nextLink } from './http.js';

describe('nextLink', () => {
  test('finds rel="next" among other relations, in any order', () => {
    expect(
      nextLink(
        '<https://h/x?page=3>; rel="last", <https://h/x?page=2>; rel="next", <https://h/x?page=1>; rel="first"',
      ),
    ).toBe('https://h/x?page=2');
    expect(nextLink('<https://h/x?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});

describe('parseRef', () => {
  const pr = [/^refs\/pull\/([^/]+)\/head$/];
  test('branches and tags keep slashes in their names; PR ids come from the regex', () => {
    expect(parseRef('refs/heads/feat/x', pr)).toEqual({ type: 'branch', name: 'feat/x' });
    expect(parseRef('refs/tags/v1/rc', pr)).toEqual({ type: 'tag', name: 'v1/rc' });
    expect(parseRef('refs/pull/42/head', pr)).toEqual({ type: 'pull_request', name: '42' });
  });
  test('anything else is ERR_GITSOURCE_UNSUPPORTED_REF', () => {
    for (const ref of ['refs/pull/42/merge', 'main', 'refs/remotes/origin/main', '']) {
      expect(() => parseRef(ref, pr)).toThrow(
        expect.objectContaining({ code: 'ERR_GITSOURCE_UNSUPPORTED_REF' }),
      );
    }
  });
});

describe('webhook helpers', () => {
  test('hmacMatches accepts the exact HMAC only', () => {
    const body = Buffer.from('{"a":1}');
    const good = createHmac('sha256', 'k').update(body).digest('hex');
    expect(hmacMatches('sha256', 'k', body, good)).toBe(true);
    expect(hmacMatches('sha256', 'k', body, good.toUpperCase())).toBe(true);
    expect(hmacMatches('sha256', 'other', body, good)).toBe(false);
    expect(hmacMatches('sha256', 'k', body, good.slice(0, -2))).toBe(false);
    expect(hmacMatches('sha256', 'k', body, 'zz')).toBe(false);
    expect(hmacMatches('sha256', 'k', body, '')).toBe(false);
  });
  test('header is case-insensitive and takes the first of repeated values', () => {
    const req = { headers: { 'X-Gitea-Event': 'push', 'x-multi': ['a', 'b'] }, body: '' };
    expect(header(req, 'x-gitea-event')).toBe('push');
    expect(header(req, 'X-MULTI')).toBe('a');
    expect(header(req, 'constructor')).toBeUndefined();
  });
  test('trimTrailingSlashes', () => {
    expect(trimTrailingSlashes('http://h/api///')).toBe('http://h/api');
    expect(trimTrailingSlashes('///')).toBe('');
  });
});

describe('createGitSource', () => {
  test('a missing or non-http API URL is ERR_GITSOURCE_INVALID_CONFIG', () => {
    for (const apiURL of ['', 'not a url', 'ftp://h/x']) {
      expect(() => createGitSource({ type: 'gitea', apiURL })).toThrow(
        expect.objectContaining({ code: 'ERR_GITSOURCE_INVALID_CONFIG' }),
      );
    }
    expect(() => createGitSource({ type: 'nope' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_GITSOURCE_INVALID_CONFIG' }),
    );
  });
  test('each type gets its own link and ref formats', () => {
    const repo = {
      id: '1',
      path: 'g/r',
      htmlURL: 'https://x/g/r',
      sshCloneURL: '',
      httpCloneURL: '',
    };
    const gitlab = createGitSource({ type: 'gitlab', apiURL: 'https://x' });
    expect(gitlab.pullRequestRef('5')).toBe('refs/merge-requests/5/head');
    expect(gitlab.pullRequestLink(repo, '5')).toBe('https://x/g/r/merge_requests/5');
    const github = createGitSource({ type: 'github', apiURL: 'https://api.github.com' });
    expect(github.branchLink(repo, 'main')).toBe('https://x/g/r/tree/main');
    expect(github.pullRequestLink(repo, '5')).toBe('https://x/g/r/pull/5');
  });
});

import {
  BRANCH_REF_PREFIX,
  DEFAULT_TIMEOUT_MS,
  TAG_REF_PREFIX,
  configURL,
  encodePath,
  parseRef,
  type CommonSourceOptions,
} from './common.js';
import { GitSourceErrorCodes } from './codes.js';
import { GitSourceError } from './errors.js';
import { HttpClient } from './http.js';
import type { GitSource, ParsedRef } from './types.js';

/** Configuration of the agolagit source (Agola's own git server, for user direct runs). */
export interface AgolaGitConfig extends CommonSourceOptions {
  type: 'agolagit';
  /** The git server base URL (the gateway uses `<apiExposedURL>/repos`). */
  url: string;
  /** Regexes whose first group is a pull request id (Agola's `prRefRegexes`). */
  pullRequestRefRegexes?: readonly RegExp[];
}

/** The agolagit source: only files and refs are real; the rest is a no-op, as in Agola. */
export type AgolaGitSource = GitSource & { readonly type: 'agolagit' };

function notSupported(what: string): GitSourceError {
  return new GitSourceError(`agolagit: ${what} is not supported by the agola git server`, {
    code: GitSourceErrorCodes.InvalidConfig,
  });
}

/**
 * Creates the agolagit source: files are read from the git server's
 * `GET /<repo>.git/raw/<ref>/<path>`; deploy keys, webhooks and statuses do nothing.
 *
 * @example
 * ```ts
 * const git = createAgolaGitSource({ type: 'agolagit', url: `${apiExposedURL}/repos` });
 * const config = await git.getFile(`${userID}/${repoUUID}`, sha, '.agola/config.yml');
 * ```
 */
export function createAgolaGitSource(
  config: Omit<AgolaGitConfig, 'type'> & { type?: 'agolagit' },
): AgolaGitSource {
  const url = configURL('agolagit', 'url', config.url);
  const http = new HttpClient({
    provider: 'agolagit',
    baseURL: url,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    skipVerify: config.skipVerify,
    logger: config.logger,
  });
  const prRegexes = config.pullRequestRefRegexes ?? [];
  return {
    type: 'agolagit',
    async getRepoInfo() {
      return Promise.reject(notSupported('repo info'));
    },
    async getFile(repoPath, commit, file, options = {}) {
      if (repoPath.split('/').some((p) => p === '' || p === '.' || p === '..')) {
        throw new GitSourceError(
          `agolagit: wrong repo path ${JSON.stringify(repoPath.slice(0, 200))}`,
          {
            code: GitSourceErrorCodes.InvalidRepoPath,
          },
        );
      }
      const res = await http.request(
        'GET',
        `${encodePath(repoPath)}.git/raw/${encodeURIComponent(commit)}/${encodePath(file)}`,
        { headers: { accept: '*/*' }, signal: options.signal },
      );
      return res.body;
    },
    deleteDeployKey: async () => undefined,
    createDeployKey: async () => undefined,
    updateDeployKey: async () => undefined,
    deleteRepoWebhook: async () => undefined,
    createRepoWebhook: async () => undefined,
    parseWebhook: () => null,
    createCommitStatus: async () => undefined,
    listCommitStatuses: async () => [],
    listUserRepos: async () => [],
    async getRef() {
      return Promise.reject(notSupported('reading a ref'));
    },
    refType(ref): ParsedRef {
      return parseRef(ref, prRegexes);
    },
    async getCommit() {
      return Promise.reject(notSupported('reading a commit'));
    },
    branchRef: (branch) => BRANCH_REF_PREFIX + branch,
    tagRef: (tag) => TAG_REF_PREFIX + tag,
    pullRequestRef: () => '',
    commitLink: () => '',
    branchLink: () => '',
    tagLink: () => '',
    pullRequestLink: () => '',
  };
}

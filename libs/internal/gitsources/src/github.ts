import { GitSourceErrorCodes } from './codes.js';
import {
  BRANCH_REF_PREFIX,
  DEFAULT_TIMEOUT_MS,
  TAG_REF_PREFIX,
  bodyBytes,
  configURL,
  encodePath,
  header,
  hmacMatches,
  invalidWebhook,
  oauth2AuthorizationURL,
  oauth2TokenRequest,
  obj,
  ownerAndName,
  parseRef,
  requireOAuth2Client,
  signatureError,
  str,
  trimTrailingSlashes,
  webhookJSON,
  type CommonSourceOptions,
  type OAuth2Endpoints,
} from './common.js';
import { GitSourceError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import type {
  CommitStatus,
  CommitStatusInfo,
  GitSource,
  OAuth2Source,
  ParsedRef,
  RepoInfo,
  WebhookData,
} from './types.js';

/** The public GitHub API URL. */
export const GITHUB_API_URL = 'https://api.github.com';
/** The public GitHub web URL. */
export const GITHUB_WEB_URL = 'https://github.com';

/** Configuration of a GitHub git source. */
export interface GitHubConfig extends CommonSourceOptions {
  type: 'github';
  /**
   * `https://api.github.com`, or a GitHub Enterprise server URL (`/api/v3` is appended when
   * missing).
   */
  apiURL: string;
  /**
   * Where OAuth2 pages live: `https://github.com` for the public API, else the server URL
   * (the API URL without `/api/v3`).
   */
  webURL?: string;
  /** The user's OAuth2 access token. */
  token?: string;
  oauth2ClientID?: string;
  oauth2ClientSecret?: string;
}

/** A GitHub git source: a {@link GitSource} and an {@link OAuth2Source}. */
export type GitHubSource = GitSource & OAuth2Source & { readonly type: 'github' };

const PR_REF = /^refs\/pull\/([^/]+)\/head$/;
const PAGE_MAX = 100;
const TO_GITHUB: Record<CommitStatus, string> = {
  pending: 'pending',
  success: 'success',
  error: 'error',
  failed: 'failure',
};

interface GitHubRepo {
  id: number;
  name: string;
  owner: { login: string };
  html_url: string;
  ssh_url: string;
  clone_url: string;
  permissions?: { admin?: boolean };
}

function fromGitHubRepo(r: GitHubRepo): RepoInfo {
  return {
    id: String(r.id),
    path: `${r.owner.login}/${r.name}`,
    htmlURL: r.html_url,
    sshCloneURL: r.ssh_url,
    httpCloneURL: r.clone_url,
  };
}

/**
 * Creates a GitHub (or GitHub Enterprise) git source (REST API v3, `Authorization: Bearer`).
 *
 * @example
 * ```ts
 * const github = createGitHubSource({ type: 'github', apiURL: 'https://api.github.com', token });
 * const repos = await github.listUserRepos();
 * ```
 * @throws GitSourceError `ERR_GITSOURCE_INVALID_CONFIG` when `apiURL` is not an http(s) URL
 */
export function createGitHubSource(
  config: Omit<GitHubConfig, 'type'> & { type?: 'github' },
): GitHubSource {
  const provider = 'github';
  let apiURL = configURL(provider, 'apiURL', config.apiURL);
  let webURL: string;
  if (apiURL === GITHUB_API_URL) {
    webURL = GITHUB_WEB_URL;
  } else {
    if (!apiURL.endsWith('/api/v3')) apiURL += '/api/v3';
    webURL = config.webURL
      ? configURL(provider, 'webURL', config.webURL)
      : trimTrailingSlashes(apiURL.slice(0, -'/api/v3'.length));
  }
  const httpOptions: HttpClientOptions = {
    provider,
    baseURL: apiURL,
    authorization: config.token ? `Bearer ${config.token}` : undefined,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    skipVerify: config.skipVerify,
    logger: config.logger,
  };
  const http = new HttpClient(httpOptions);
  const pageSize = Math.min(config.pageSize ?? PAGE_MAX, PAGE_MAX);
  const ghHeaders = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };
  const oauth2 = (): OAuth2Endpoints => {
    requireOAuth2Client(provider, config.oauth2ClientID, config.oauth2ClientSecret);
    return {
      provider,
      authURL: `${webURL}/login/oauth/authorize`,
      tokenURL: `${webURL}/login/oauth/access_token`,
      clientID: config.oauth2ClientID ?? '',
      clientSecret: config.oauth2ClientSecret ?? '',
      scopes: ['repo'],
    };
  };
  const repoBase = (repoPath: string): string => {
    const [owner, name] = ownerAndName(provider, repoPath);
    return `repos/${owner}/${name}`;
  };
  const list = <T>(path: string, signal?: AbortSignal) =>
    http.paginate<T>(path, { query: { per_page: pageSize }, headers: ghHeaders, signal });
  const listKeys = (repoPath: string, signal?: AbortSignal) =>
    list<{ id: number; title: string; key: string }>(`${repoBase(repoPath)}/keys`, signal);

  const source: GitHubSource = {
    type: 'github',

    async getUserInfo(options = {}) {
      const u = await http.json<{ id: number; login: string; email?: string | null }>(
        'GET',
        'user',
        {
          headers: ghHeaders,
          signal: options.signal,
        },
      );
      return { id: String(u.id), loginName: u.login, email: u.email ?? '' };
    },

    getOAuth2AuthorizationURL(callbackURL, state) {
      return oauth2AuthorizationURL(oauth2(), callbackURL, state);
    },
    requestOAuth2Token(callbackURL, code, options = {}) {
      return oauth2TokenRequest(
        oauth2(),
        httpOptions,
        { grant_type: 'authorization_code', code, redirect_uri: callbackURL },
        options,
      );
    },
    refreshOAuth2Token(refreshToken, options = {}) {
      return oauth2TokenRequest(
        oauth2(),
        httpOptions,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        options,
      );
    },

    async getRepoInfo(repoPath, options = {}) {
      return fromGitHubRepo(
        await http.json<GitHubRepo>('GET', repoBase(repoPath), {
          headers: ghHeaders,
          signal: options.signal,
        }),
      );
    },

    async getFile(repoPath, commit, file, options = {}) {
      const res = await http.request('GET', `${repoBase(repoPath)}/contents/${encodePath(file)}`, {
        query: { ref: commit },
        headers: { ...ghHeaders, accept: 'application/vnd.github.raw+json' },
        signal: options.signal,
      });
      return res.body;
    },

    async createDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      await http.request('POST', `${repoBase(repoPath)}/keys`, {
        json: { title, key: pubKey, read_only: readOnly },
        headers: ghHeaders,
        signal: options.signal,
      });
    },

    async updateDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title !== title) continue;
        if (key.key.trim() === pubKey.trim()) return;
        await http.request('DELETE', `${repoBase(repoPath)}/keys/${key.id}`, {
          headers: ghHeaders,
          signal: options.signal,
        });
      }
      await source.createDeployKey(repoPath, title, pubKey, readOnly, options);
    },

    async deleteDeployKey(repoPath, title, options = {}) {
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title === title) {
          await http.request('DELETE', `${repoBase(repoPath)}/keys/${key.id}`, {
            headers: ghHeaders,
            signal: options.signal,
          });
        }
      }
    },

    async createRepoWebhook(repoPath, url, secret, options = {}) {
      await http.request('POST', `${repoBase(repoPath)}/hooks`, {
        json: {
          name: 'web',
          config: { url, content_type: 'json', secret, insecure_ssl: '0' },
          events: ['push', 'pull_request'],
          active: true,
        },
        headers: ghHeaders,
        signal: options.signal,
      });
    },

    async deleteRepoWebhook(repoPath, url, options = {}) {
      const hooks = await list<{ id: number; config?: { url?: string } }>(
        `${repoBase(repoPath)}/hooks`,
        options.signal,
      );
      for (const hook of hooks) {
        if (hook.config?.url === url) {
          await http.request('DELETE', `${repoBase(repoPath)}/hooks/${hook.id}`, {
            headers: ghHeaders,
            signal: options.signal,
          });
        }
      }
    },

    parseWebhook(request, secret) {
      const body = bodyBytes(request);
      if (secret) {
        // GitHub sends both; SHA-256 is preferred, SHA-1 is the legacy header go-github checked.
        const sig256 = header(request, 'x-hub-signature-256');
        const sig1 = header(request, 'x-hub-signature');
        if (sig256 !== undefined) {
          if (
            !sig256.startsWith('sha256=') ||
            !hmacMatches('sha256', secret, body, sig256.slice(7))
          ) {
            throw signatureError(provider, 'wrong X-Hub-Signature-256');
          }
        } else if (sig1 !== undefined) {
          if (!sig1.startsWith('sha1=') || !hmacMatches('sha1', secret, body, sig1.slice(5))) {
            throw signatureError(provider, 'wrong X-Hub-Signature');
          }
        } else {
          throw signatureError(provider, 'missing X-Hub-Signature-256');
        }
      }
      const event = header(request, 'x-github-event');
      switch (event) {
        case 'push':
          return githubPush(webhookJSON(provider, body));
        case 'pull_request':
          return githubPullRequest(webhookJSON(provider, body));
        default:
          throw invalidWebhook(
            provider,
            `unknown event ${JSON.stringify(String(event).slice(0, 50))}`,
          );
      }
    },

    async createCommitStatus(repoPath, commitSHA, status, options = {}) {
      await http.request(
        'POST',
        `${repoBase(repoPath)}/statuses/${encodeURIComponent(commitSHA)}`,
        {
          json: {
            state: TO_GITHUB[status],
            target_url: options.targetURL ?? '',
            description: options.description ?? '',
            context: options.context ?? '',
          },
          headers: ghHeaders,
          signal: options.signal,
        },
      );
    },

    async listCommitStatuses(repoPath, commitSHA, options = {}): Promise<CommitStatusInfo[]> {
      const statuses = await list<Record<string, unknown>>(
        `${repoBase(repoPath)}/commits/${encodeURIComponent(commitSHA)}/statuses`,
        options.signal,
      );
      return statuses.map((s) => {
        const state = str(s['state']);
        return {
          state:
            state === 'failure'
              ? 'failed'
              : state === 'success' || state === 'error'
                ? state
                : 'pending',
          providerState: state,
          context: str(s['context']),
          description: str(s['description']),
          targetURL: str(s['target_url']),
        };
      });
    },

    async listUserRepos(options = {}) {
      const repos = await list<GitHubRepo>('user/repos', options.signal);
      return repos.filter((r) => r.permissions?.admin === true).map(fromGitHubRepo);
    },

    async getRef(repoPath, ref, options = {}) {
      const short = ref.startsWith('refs/') ? ref.slice('refs/'.length) : ref;
      const r = await http.json<Record<string, unknown>>(
        'GET',
        `${repoBase(repoPath)}/git/ref/${encodePath(short)}`,
        {
          headers: ghHeaders,
          signal: options.signal,
        },
      );
      const object = obj(r['object']);
      if (str(object['type']) !== 'commit') {
        throw new GitSourceError(
          `github: ref ${ref} points to a ${str(object['type'])}, not a commit`,
          {
            code: GitSourceErrorCodes.UnsupportedRef,
          },
        );
      }
      return { ref: str(r['ref']), commitSHA: str(object['sha']) };
    },

    refType(ref): ParsedRef {
      return parseRef(ref, [PR_REF]);
    },

    async getCommit(repoPath, commitSHA, options = {}) {
      const c = await http.json<{ sha: string; message: string }>(
        'GET',
        `${repoBase(repoPath)}/git/commits/${encodeURIComponent(commitSHA)}`,
        { headers: ghHeaders, signal: options.signal },
      );
      return { sha: c.sha, message: c.message };
    },

    branchRef: (branch) => BRANCH_REF_PREFIX + branch,
    tagRef: (tag) => TAG_REF_PREFIX + tag,
    pullRequestRef: (prID) => `refs/pull/${prID}/head`,
    commitLink: (repo, sha) => `${repo.htmlURL}/commit/${sha}`,
    branchLink: (repo, branch) => `${repo.htmlURL}/tree/${branch}`,
    tagLink: (repo, tag) => `${repo.htmlURL}/tree/${tag}`,
    pullRequestLink: (repo, prID) => `${repo.htmlURL}/pull/${prID}`,
  };
  return source;
}

function githubPush(hook: Record<string, unknown>): WebhookData {
  const repo = obj(hook['repository']);
  const webURL = str(repo['html_url']);
  const ref = str(hook['ref']);
  const headCommit = obj(hook['head_commit']);
  const s = obj(hook['sender']);
  const owner = obj(repo['owner']);
  const data: WebhookData = {
    event: 'push',
    sshURL: str(repo['ssh_url']),
    commitSHA: str(hook['after']),
    ref,
    compareLink: str(hook['compare']),
    commitLink: `${webURL}/commit/${str(hook['after'])}`,
    message: '',
    sender: str(s['name']) || str(s['login']),
    avatar: str(s['avatar_url']) || undefined,
    repo: { path: `${str(owner['login']) || str(owner['name'])}/${str(repo['name'])}`, webURL },
  };
  if (ref.startsWith(BRANCH_REF_PREFIX)) {
    data.branch = ref.slice(BRANCH_REF_PREFIX.length);
    data.branchLink = `${webURL}/tree/${data.branch}`;
    data.message = str(headCommit['message']);
  } else if (ref.startsWith(TAG_REF_PREFIX)) {
    data.event = 'tag';
    data.tag = ref.slice(TAG_REF_PREFIX.length);
    data.tagLink = `${webURL}/tree/${data.tag}`;
    data.message = `Tag ${data.tag}`;
    // for an annotated tag `after` is the tag object: the commit is the head commit
    const id = str(headCommit['id']);
    if (id) {
      data.commitSHA = id;
      data.commitLink = `${webURL}/commit/${id}`;
    }
  } else {
    throw invalidWebhook('github', `unsupported ref ${JSON.stringify(ref.slice(0, 200))}`);
  }
  return data;
}

function githubPullRequest(hook: Record<string, unknown>): WebhookData | null {
  const pr = obj(hook['pull_request']);
  if (str(pr['state']) !== 'open') return null;
  const action = str(hook['action']);
  if (action !== 'opened' && action !== 'synchronize') return null;
  const repo = obj(hook['repository']);
  const webURL = str(repo['html_url']);
  const head = obj(pr['head']);
  const base = obj(pr['base']);
  const sha = str(head['sha']);
  const s = obj(hook['sender']);
  const number = str(pr['number']) || str(hook['number']);
  return {
    event: 'pull_request',
    sshURL: str(repo['ssh_url']),
    commitSHA: sha,
    ref: `refs/pull/${str(hook['number']) || number}/head`,
    commitLink: `${webURL}/commit/${sha}`,
    message: str(pr['title']),
    sender: str(s['name']) || str(s['login']),
    avatar: str(s['avatar_url']) || undefined,
    pullRequestID: number,
    pullRequestLink: str(pr['html_url']),
    prFromSameRepo: str(obj(base['repo'])['url']) === str(obj(head['repo'])['url']),
    repo: { path: `${str(obj(repo['owner'])['login'])}/${str(repo['name'])}`, webURL },
  };
}

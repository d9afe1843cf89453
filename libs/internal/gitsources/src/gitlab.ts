import { GitSourceErrorCodes } from './codes.js';
import {
  BRANCH_REF_PREFIX,
  DEFAULT_TIMEOUT_MS,
  TAG_REF_PREFIX,
  bodyBytes,
  configURL,
  header,
  invalidWebhook,
  oauth2AuthorizationURL,
  oauth2TokenRequest,
  obj,
  parseRef,
  requireOAuth2Client,
  safeEqual,
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

/** Configuration of a GitLab git source. */
export interface GitLabConfig extends CommonSourceOptions {
  type: 'gitlab';
  /** The GitLab server URL (the API is under `/api/v4`; OAuth2 under `/oauth`). */
  apiURL: string;
  /** The user's OAuth2 access token (or a personal access token). */
  token?: string;
  oauth2ClientID?: string;
  oauth2ClientSecret?: string;
}

/** A GitLab git source: a {@link GitSource} and an {@link OAuth2Source}. */
export type GitLabSource = GitSource & OAuth2Source & { readonly type: 'gitlab' };

const MR_REF = /^refs\/merge-requests\/([^/]+)\/head$/;
const PAGE_MAX = 100;
/** Maintainer: the least access that may manage deploy keys and webhooks. */
const MAINTAINER = 40;
const ZERO_SHA = /^0+$/;

// GitLab has no `error` state: both of Agola's error and failed become `failed`.
const TO_GITLAB: Record<CommitStatus, string> = {
  pending: 'pending',
  success: 'success',
  error: 'failed',
  failed: 'failed',
};

interface GitLabProject {
  id: number;
  path_with_namespace: string;
  web_url: string;
  ssh_url_to_repo: string;
  http_url_to_repo: string;
}

function fromGitLabProject(p: GitLabProject): RepoInfo {
  return {
    id: String(p.id),
    path: p.path_with_namespace,
    htmlURL: p.web_url,
    sshCloneURL: p.ssh_url_to_repo,
    httpCloneURL: p.http_url_to_repo,
  };
}

function projectID(repoPath: string): string {
  const parts = repoPath.split('/');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new GitSourceError(`gitlab: wrong repo path ${JSON.stringify(repoPath.slice(0, 200))}`, {
      code: GitSourceErrorCodes.InvalidRepoPath,
    });
  }
  return encodeURIComponent(repoPath);
}

/**
 * Creates a GitLab git source (REST API v4, `Authorization: Bearer`).
 *
 * @example
 * ```ts
 * const gitlab = createGitLabSource({ type: 'gitlab', apiURL: 'https://gitlab.com', token });
 * const file = await gitlab.getFile('group/repo', sha, '.agola/config.yml');
 * ```
 * @throws GitSourceError `ERR_GITSOURCE_INVALID_CONFIG` when `apiURL` is not an http(s) URL
 */
export function createGitLabSource(
  config: Omit<GitLabConfig, 'type'> & { type?: 'gitlab' },
): GitLabSource {
  const provider = 'gitlab';
  let root = configURL(provider, 'apiURL', config.apiURL);
  if (root.endsWith('/api/v4')) root = trimTrailingSlashes(root.slice(0, -'/api/v4'.length));
  const httpOptions: HttpClientOptions = {
    provider,
    baseURL: `${root}/api/v4`,
    authorization: config.token ? `Bearer ${config.token}` : undefined,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    skipVerify: config.skipVerify,
    logger: config.logger,
  };
  const http = new HttpClient(httpOptions);
  const pageSize = Math.min(config.pageSize ?? PAGE_MAX, PAGE_MAX);
  const oauth2 = (): OAuth2Endpoints => {
    requireOAuth2Client(provider, config.oauth2ClientID, config.oauth2ClientSecret);
    return {
      provider,
      authURL: `${root}/oauth/authorize`,
      tokenURL: `${root}/oauth/token`,
      clientID: config.oauth2ClientID ?? '',
      clientSecret: config.oauth2ClientSecret ?? '',
      scopes: ['api'],
    };
  };
  const base = (repoPath: string) => `projects/${projectID(repoPath)}`;
  const list = <T>(
    path: string,
    query: Record<string, string | number> = {},
    signal?: AbortSignal,
  ) => http.paginate<T>(path, { query: { per_page: pageSize, ...query }, signal });
  const listKeys = (repoPath: string, signal?: AbortSignal) =>
    list<{ id: number; title: string; key: string }>(`${base(repoPath)}/deploy_keys`, {}, signal);

  const source: GitLabSource = {
    type: 'gitlab',

    async getUserInfo(options = {}) {
      const u = await http.json<{ id: number; username: string; email?: string }>(
        'GET',
        'user',
        options,
      );
      return { id: String(u.id), loginName: u.username, email: u.email ?? '' };
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
      return fromGitLabProject(await http.json<GitLabProject>('GET', base(repoPath), options));
    },

    async getFile(repoPath, commit, file, options = {}) {
      const res = await http.request(
        'GET',
        `${base(repoPath)}/repository/files/${encodeURIComponent(file)}/raw`,
        {
          query: { ref: commit },
          headers: { accept: '*/*' },
          signal: options.signal,
        },
      );
      return res.body;
    },

    async createDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      await http.request('POST', `${base(repoPath)}/deploy_keys`, {
        json: { title, key: pubKey, can_push: !readOnly },
        signal: options.signal,
      });
    },

    async updateDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title !== title) continue;
        if (key.key.trim() === pubKey.trim()) return;
        await http.request('DELETE', `${base(repoPath)}/deploy_keys/${key.id}`, {
          signal: options.signal,
        });
      }
      await source.createDeployKey(repoPath, title, pubKey, readOnly, options);
    },

    async deleteDeployKey(repoPath, title, options = {}) {
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title === title) {
          await http.request('DELETE', `${base(repoPath)}/deploy_keys/${key.id}`, {
            signal: options.signal,
          });
        }
      }
    },

    async createRepoWebhook(repoPath, url, secret, options = {}) {
      await http.request('POST', `${base(repoPath)}/hooks`, {
        json: {
          url,
          push_events: true,
          tag_push_events: true,
          merge_requests_events: true,
          token: secret,
          enable_ssl_verification: true,
        },
        signal: options.signal,
      });
    },

    async deleteRepoWebhook(repoPath, url, options = {}) {
      const hooks = await list<{ id: number; url: string }>(
        `${base(repoPath)}/hooks`,
        {},
        options.signal,
      );
      for (const hook of hooks) {
        if (hook.url === url) {
          await http.request('DELETE', `${base(repoPath)}/hooks/${hook.id}`, {
            signal: options.signal,
          });
        }
      }
    },

    parseWebhook(request, secret) {
      const body = bodyBytes(request);
      // GitLab does not sign payloads: it sends the hook's secret token back as is.
      if (secret) {
        const token = header(request, 'x-gitlab-token');
        if (token === undefined) throw signatureError(provider, 'missing X-Gitlab-Token');
        if (!safeEqual(token, secret)) throw signatureError(provider, 'wrong X-Gitlab-Token');
      }
      const event = header(request, 'x-gitlab-event');
      switch (event) {
        case 'Push Hook':
        case 'Tag Push Hook':
          return gitlabPush(webhookJSON(provider, body));
        case 'Merge Request Hook':
          return gitlabMergeRequest(webhookJSON(provider, body));
        default:
          throw invalidWebhook(
            provider,
            `unknown event ${JSON.stringify(String(event).slice(0, 50))}`,
          );
      }
    },

    async createCommitStatus(repoPath, commitSHA, status, options = {}) {
      await http.request('POST', `${base(repoPath)}/statuses/${encodeURIComponent(commitSHA)}`, {
        json: {
          state: TO_GITLAB[status],
          target_url: options.targetURL ?? '',
          description: options.description ?? '',
          name: options.context ?? '',
        },
        signal: options.signal,
      });
    },

    async listCommitStatuses(repoPath, commitSHA, options = {}): Promise<CommitStatusInfo[]> {
      const statuses = await list<Record<string, unknown>>(
        `${base(repoPath)}/repository/commits/${encodeURIComponent(commitSHA)}/statuses`,
        {},
        options.signal,
      );
      return statuses
        .map((s) => {
          const state = str(s['status']);
          const mapped: CommitStatus =
            state === 'success'
              ? 'success'
              : state === 'failed' || state === 'canceled'
                ? 'failed'
                : 'pending';
          return {
            state: mapped,
            providerState: state,
            context: str(s['name']),
            description: str(s['description']),
            targetURL: str(s['target_url']),
            id: Number(s['id']),
          };
        })
        .sort((a, b) => b.id - a.id)
        .map(({ id: _id, ...rest }) => rest);
    },

    async listUserRepos(options = {}) {
      // only the projects where the user may manage deploy keys and webhooks
      const projects = await list<GitLabProject>(
        'projects',
        { min_access_level: MAINTAINER, simple: 'false' },
        options.signal,
      );
      return projects.map(fromGitLabProject);
    },

    // GitLab has no "get ref" API: branches and tags are read on their own endpoints.
    async getRef(repoPath, ref, options = {}) {
      let path: string;
      if (ref.startsWith(BRANCH_REF_PREFIX)) {
        path = `${base(repoPath)}/repository/branches/${encodeURIComponent(ref.slice(BRANCH_REF_PREFIX.length))}`;
      } else if (ref.startsWith(TAG_REF_PREFIX)) {
        path = `${base(repoPath)}/repository/tags/${encodeURIComponent(ref.slice(TAG_REF_PREFIX.length))}`;
      } else {
        throw new GitSourceError(`gitlab: unsupported ref ${JSON.stringify(ref.slice(0, 200))}`, {
          code: GitSourceErrorCodes.UnsupportedRef,
        });
      }
      const r = await http.json<{ commit?: { id?: string } }>('GET', path, options);
      return { ref, commitSHA: r.commit?.id ?? '' };
    },

    refType(ref): ParsedRef {
      return parseRef(ref, [MR_REF]);
    },

    async getCommit(repoPath, commitSHA, options = {}) {
      const c = await http.json<{ id: string; message: string }>(
        'GET',
        `${base(repoPath)}/repository/commits/${encodeURIComponent(commitSHA)}`,
        options,
      );
      return { sha: c.id, message: c.message };
    },

    branchRef: (branch) => BRANCH_REF_PREFIX + branch,
    tagRef: (tag) => TAG_REF_PREFIX + tag,
    pullRequestRef: (prID) => `refs/merge-requests/${prID}/head`,
    commitLink: (repo, sha) => `${repo.htmlURL}/commit/${sha}`,
    branchLink: (repo, branch) => `${repo.htmlURL}/tree/${branch}`,
    tagLink: (repo, tag) => `${repo.htmlURL}/tree/${tag}`,
    pullRequestLink: (repo, prID) => `${repo.htmlURL}/merge_requests/${prID}`,
  };
  return source;
}

function gitlabPush(hook: Record<string, unknown>): WebhookData | null {
  const after = str(hook['after']);
  // a deletion (of a branch or a tag) has nothing to build
  if (ZERO_SHA.test(after)) return null;
  const project = obj(hook['project']);
  const webURL = str(project['web_url']);
  const ref = str(hook['ref']);
  const commits = Array.isArray(hook['commits']) ? hook['commits'].map(obj) : [];
  const sha = str(hook['checkout_sha']) || after;
  const head = commits.find((c) => str(c['id']) === sha) ?? commits[commits.length - 1];
  const data: WebhookData = {
    event: 'push',
    sshURL: str(project['git_ssh_url']) || str(project['ssh_url']),
    commitSHA: sha,
    ref,
    commitLink: (head && str(head['url'])) || `${webURL}/commit/${sha}`,
    message: '',
    sender: str(hook['user_name']) || str(hook['user_username']),
    avatar: str(hook['user_avatar']) || undefined,
    repo: { path: str(project['path_with_namespace']), webURL },
  };
  if (ref.startsWith(BRANCH_REF_PREFIX)) {
    data.branch = ref.slice(BRANCH_REF_PREFIX.length);
    data.branchLink = `${webURL}/tree/${data.branch}`;
    data.message = head ? str(head['message']) : '';
  } else if (ref.startsWith(TAG_REF_PREFIX)) {
    data.event = 'tag';
    data.tag = ref.slice(TAG_REF_PREFIX.length);
    data.tagLink = `${webURL}/tree/${data.tag}`;
    data.message = `Tag ${data.tag}`;
  } else {
    throw invalidWebhook('gitlab', `unsupported ref ${JSON.stringify(ref.slice(0, 200))}`);
  }
  return data;
}

function gitlabMergeRequest(hook: Record<string, unknown>): WebhookData | null {
  const attrs = obj(hook['object_attributes']);
  if (str(attrs['state']) !== 'opened') return null;
  const action = str(attrs['action']);
  // open, reopen and update (new commits) carry a commit to build; approvals and the like don't
  if (action !== '' && action !== 'open' && action !== 'reopen' && action !== 'update') return null;
  const project = obj(hook['project']);
  const webURL = str(project['web_url']);
  const user = obj(hook['user']);
  const last = obj(attrs['last_commit']);
  const iid = str(attrs['iid']);
  const sha = str(last['id']);
  return {
    event: 'pull_request',
    sshURL: str(project['git_ssh_url']) || str(project['ssh_url']),
    commitSHA: sha,
    ref: `refs/merge-requests/${iid}/head`,
    commitLink: str(last['url']) || `${webURL}/commit/${sha}`,
    message: str(attrs['title']),
    sender: str(user['name']) || str(user['username']),
    avatar: str(user['avatar_url']) || undefined,
    pullRequestID: iid,
    pullRequestLink: str(attrs['url']),
    prFromSameRepo: str(attrs['source_project_id']) === str(attrs['target_project_id']),
    repo: { path: str(project['path_with_namespace']), webURL },
  };
}

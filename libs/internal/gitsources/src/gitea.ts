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
  webhookJSON,
  type CommonSourceOptions,
  type OAuth2Endpoints,
} from './common.js';
import { GitSourceError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import type {
  CallOptions,
  CommitStatus,
  CommitStatusInfo,
  CommitStatusOptions,
  GitSource,
  OAuth2Source,
  OAuth2Token,
  ParsedRef,
  PasswordSource,
  Ref,
  RepoInfo,
  UserInfo,
  WebhookData,
  WebhookRequest,
} from './types.js';

/** Configuration of a Gitea git source. */
export interface GiteaConfig extends CommonSourceOptions {
  type: 'gitea';
  /** The Gitea server URL (the API is under `/api/v1`). */
  apiURL: string;
  /** The user's access token (from a password login or OAuth2). */
  token?: string;
  oauth2ClientID?: string;
  oauth2ClientSecret?: string;
}

/** A Gitea git source: a {@link GitSource}, a {@link PasswordSource} and an {@link OAuth2Source}. */
export type GiteaSource = GitSource & PasswordSource & OAuth2Source & { readonly type: 'gitea' };

const PR_REF = /^refs\/pull\/([^/]+)\/head$/;
const PAGE_MAX = 50;

const TO_GITEA: Record<CommitStatus, string> = {
  pending: 'pending',
  success: 'success',
  error: 'error',
  failed: 'failure',
};

function fromGiteaState(state: string): CommitStatus {
  switch (state) {
    case 'success':
      return 'success';
    case 'error':
      return 'error';
    case 'failure':
      return 'failed';
    default:
      return 'pending';
  }
}

interface GiteaRepo {
  id: number;
  name: string;
  owner: { login?: string; username?: string };
  html_url: string;
  ssh_url: string;
  clone_url: string;
  permissions?: { admin?: boolean };
}

function fromGiteaRepo(r: GiteaRepo): RepoInfo {
  return {
    id: String(r.id),
    path: `${r.owner.login ?? r.owner.username ?? ''}/${r.name}`,
    htmlURL: r.html_url,
    sshCloneURL: r.ssh_url,
    httpCloneURL: r.clone_url,
  };
}

/**
 * Creates a Gitea git source (Gitea's REST API v1, `Authorization: token`).
 *
 * @example
 * ```ts
 * const gitea = createGiteaSource({ type: 'gitea', apiURL: 'https://gitea.example.com', token });
 * const repo = await gitea.getRepoInfo('alice/repo');
 * ```
 * @throws GitSourceError `ERR_GITSOURCE_INVALID_CONFIG` when `apiURL` is not an http(s) URL
 */
export function createGiteaSource(
  config: Omit<GiteaConfig, 'type'> & { type?: 'gitea' },
): GiteaSource {
  const provider = 'gitea';
  const root = configURL(provider, 'apiURL', config.apiURL);
  const httpOptions: HttpClientOptions = {
    provider,
    baseURL: `${root}/api/v1`,
    authorization: config.token ? `token ${config.token}` : undefined,
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
      authURL: `${root}/login/oauth/authorize`,
      tokenURL: `${root}/login/oauth/access_token`,
      clientID: config.oauth2ClientID ?? '',
      clientSecret: config.oauth2ClientSecret ?? '',
      // Gitea has no scopes for OAuth2 apps
      scopes: [],
    };
  };
  const repoBase = (repoPath: string): string => {
    const [owner, name] = ownerAndName(provider, repoPath);
    return `repos/${owner}/${name}`;
  };
  const listKeys = (repoPath: string, signal?: AbortSignal) =>
    http.paginate<{ id: number; title: string; key: string }>(`${repoBase(repoPath)}/keys`, {
      query: { limit: pageSize },
      signal,
    });

  const source: GiteaSource = {
    type: 'gitea',

    async getUserInfo(options: CallOptions = {}): Promise<UserInfo> {
      const u = await http.json<{ id: number; login: string; email: string }>(
        'GET',
        'user',
        options,
      );
      return { id: String(u.id), loginName: u.login, email: u.email ?? '' };
    },

    async loginPassword(username, password, tokenName, options = {}) {
      // Gitea shows a token's value only when it is created: an existing token with the name
      // is deleted and made again, so a login always yields a working token.
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const user = encodeURIComponent(username);
      const headers = { authorization: basic };
      try {
        const tokens = await http.paginate<{ id: number; name: string; sha1?: string }>(
          `users/${user}/tokens`,
          {
            noAuth: true,
            headers,
            query: { limit: PAGE_MAX },
            signal: options.signal,
          },
        );
        for (const t of tokens) {
          if (t.name !== tokenName) continue;
          if (t.sha1) return t.sha1;
          await http.request('DELETE', `users/${user}/tokens/${t.id}`, {
            noAuth: true,
            headers,
            signal: options.signal,
          });
        }
        const created = await http.json<{ sha1?: string }>('POST', `users/${user}/tokens`, {
          noAuth: true,
          headers,
          json: { name: tokenName, scopes: ['write:repository', 'read:user'] },
          signal: options.signal,
        });
        if (!created.sha1) {
          throw new GitSourceError('gitea: the created access token has no value', {
            code: GitSourceErrorCodes.BadResponse,
          });
        }
        return created.sha1;
      } catch (err) {
        if (err instanceof GitSourceError && err.code === GitSourceErrorCodes.Unauthorized) {
          throw new GitSourceError(
            `gitea: login of ${JSON.stringify(username.slice(0, 100))} failed`,
            {
              code: GitSourceErrorCodes.Unauthorized,
              status: err.status,
              cause: err,
            },
          );
        }
        throw err;
      }
    },

    getOAuth2AuthorizationURL(callbackURL, state) {
      return oauth2AuthorizationURL(oauth2(), callbackURL, state);
    },
    requestOAuth2Token(callbackURL, code, options = {}): Promise<OAuth2Token> {
      return oauth2TokenRequest(
        oauth2(),
        httpOptions,
        { grant_type: 'authorization_code', code, redirect_uri: callbackURL },
        options,
      );
    },
    refreshOAuth2Token(refreshToken, options = {}): Promise<OAuth2Token> {
      return oauth2TokenRequest(
        oauth2(),
        httpOptions,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        options,
      );
    },

    async getRepoInfo(repoPath, options = {}) {
      return fromGiteaRepo(await http.json<GiteaRepo>('GET', repoBase(repoPath), options));
    },

    async getFile(repoPath, commit, file, options = {}) {
      const res = await http.request('GET', `${repoBase(repoPath)}/raw/${encodePath(file)}`, {
        query: { ref: commit },
        headers: { accept: '*/*' },
        signal: options.signal,
      });
      return res.body;
    },

    async createDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      await http.request('POST', `${repoBase(repoPath)}/keys`, {
        json: { title, key: pubKey, read_only: readOnly },
        signal: options.signal,
      });
    },

    async updateDeployKey(repoPath, title, pubKey, readOnly, options = {}) {
      // Deleting and re-adding the same key makes Gitea lose it from authorized_keys: only
      // replace a key whose value changed.
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title !== title) continue;
        if (key.key.trim() === pubKey.trim()) return;
        await http.request('DELETE', `${repoBase(repoPath)}/keys/${key.id}`, {
          signal: options.signal,
        });
      }
      await source.createDeployKey(repoPath, title, pubKey, readOnly, options);
    },

    async deleteDeployKey(repoPath, title, options = {}) {
      for (const key of await listKeys(repoPath, options.signal)) {
        if (key.title === title) {
          await http.request('DELETE', `${repoBase(repoPath)}/keys/${key.id}`, {
            signal: options.signal,
          });
        }
      }
    },

    async createRepoWebhook(repoPath, url, secret, options = {}) {
      await http.request('POST', `${repoBase(repoPath)}/hooks`, {
        json: {
          type: 'gitea',
          config: { url, content_type: 'json', secret },
          events: ['push', 'pull_request'],
          active: true,
        },
        signal: options.signal,
      });
    },

    async deleteRepoWebhook(repoPath, url, options = {}) {
      const hooks = await http.paginate<{ id: number; config?: { url?: string } }>(
        `${repoBase(repoPath)}/hooks`,
        {
          query: { limit: pageSize },
          signal: options.signal,
        },
      );
      for (const hook of hooks) {
        if (hook.config?.url === url) {
          await http.request('DELETE', `${repoBase(repoPath)}/hooks/${hook.id}`, {
            signal: options.signal,
          });
        }
      }
    },

    parseWebhook(request: WebhookRequest, secret: string): WebhookData | null {
      const body = bodyBytes(request);
      if (secret) {
        const signature = header(request, 'x-gitea-signature');
        if (!signature) throw signatureError(provider, 'missing X-Gitea-Signature');
        if (!hmacMatches('sha256', secret, body, signature))
          throw signatureError(provider, 'wrong signature');
      }
      const event = header(request, 'x-gitea-event');
      switch (event) {
        case 'push':
          return giteaPush(webhookJSON(provider, body));
        case 'pull_request':
          return giteaPullRequest(webhookJSON(provider, body));
        default:
          throw invalidWebhook(
            provider,
            `unknown event ${JSON.stringify(String(event).slice(0, 50))}`,
          );
      }
    },

    async createCommitStatus(
      repoPath,
      commitSHA,
      status: CommitStatus,
      options: CommitStatusOptions = {},
    ) {
      await http.request(
        'POST',
        `${repoBase(repoPath)}/statuses/${encodeURIComponent(commitSHA)}`,
        {
          json: {
            state: TO_GITEA[status],
            target_url: options.targetURL ?? '',
            description: options.description ?? '',
            context: options.context ?? '',
          },
          signal: options.signal,
        },
      );
    },

    async listCommitStatuses(repoPath, commitSHA, options = {}): Promise<CommitStatusInfo[]> {
      const list = await http.paginate<Record<string, unknown>>(
        `${repoBase(repoPath)}/statuses/${encodeURIComponent(commitSHA)}`,
        { query: { limit: pageSize }, signal: options.signal },
      );
      return list.map((s) => ({
        state: fromGiteaState(str(s['status'])),
        providerState: str(s['status']),
        context: str(s['context']),
        description: str(s['description']),
        targetURL: str(s['target_url']),
      }));
    },

    async listUserRepos(options = {}) {
      const repos = await http.paginate<GiteaRepo>('user/repos', {
        query: { limit: pageSize },
        signal: options.signal,
      });
      return repos.filter((r) => r.permissions?.admin === true).map(fromGiteaRepo);
    },

    async getRef(repoPath, ref, options = {}): Promise<Ref> {
      const short = ref.startsWith('refs/') ? ref.slice('refs/'.length) : ref;
      const refs = await http.json<unknown>(
        'GET',
        `${repoBase(repoPath)}/git/refs/${encodePath(short)}`,
        options,
      );
      const list = (Array.isArray(refs) ? refs : [refs])
        .map(obj)
        .filter((r) => str(r['ref']) === ref);
      const found = list[0];
      if (!found) {
        throw new GitSourceError(
          `gitea: no exact match for ref ${JSON.stringify(ref.slice(0, 200))} in ${repoPath}`,
          {
            code: GitSourceErrorCodes.NotExist,
          },
        );
      }
      const object = obj(found['object']);
      if (str(object['type']) !== 'commit') {
        throw new GitSourceError(
          `gitea: ref ${ref} points to a ${str(object['type'])}, not a commit`,
          {
            code: GitSourceErrorCodes.UnsupportedRef,
          },
        );
      }
      return { ref: str(found['ref']), commitSHA: str(object['sha']) };
    },

    refType(ref): ParsedRef {
      return parseRef(ref, [PR_REF]);
    },

    async getCommit(repoPath, commitSHA, options = {}) {
      const c = await http.json<{ sha: string; commit?: { message?: string } }>(
        'GET',
        `${repoBase(repoPath)}/git/commits/${encodeURIComponent(commitSHA)}`,
        options,
      );
      return { sha: c.sha, message: c.commit?.message ?? '' };
    },

    branchRef: (branch) => BRANCH_REF_PREFIX + branch,
    tagRef: (tag) => TAG_REF_PREFIX + tag,
    pullRequestRef: (prID) => `refs/pull/${prID}/head`,
    commitLink: (repo, sha) => `${repo.htmlURL}/commit/${sha}`,
    branchLink: (repo, branch) => `${repo.htmlURL}/src/branch/${branch}`,
    tagLink: (repo, tag) => `${repo.htmlURL}/src/tag/${tag}`,
    pullRequestLink: (repo, prID) => `${repo.htmlURL}/pulls/${prID}`,
  };
  return source;
}

function sender(s: Record<string, unknown>): string {
  return str(s['username']) || str(s['login']);
}

function repoPathOf(repo: Record<string, unknown>): string {
  const owner = obj(repo['owner']);
  return `${str(owner['username']) || str(owner['login'])}/${str(repo['name'])}`;
}

function giteaPush(hook: Record<string, unknown>): WebhookData {
  const repo = obj(hook['repository']);
  const webURL = str(repo['html_url']);
  const ref = str(hook['ref']);
  const after = str(hook['after']);
  const s = obj(hook['sender']);
  const data: WebhookData = {
    event: 'push',
    sshURL: str(repo['ssh_url']),
    commitSHA: after,
    ref,
    compareLink: str(hook['compare_url']),
    commitLink: `${webURL}/commit/${after}`,
    message: '',
    sender: sender(s),
    avatar: str(s['avatar_url']) || undefined,
    repo: { path: repoPathOf(repo), webURL },
  };
  if (ref.startsWith(BRANCH_REF_PREFIX)) {
    data.branch = ref.slice(BRANCH_REF_PREFIX.length);
    data.branchLink = `${webURL}/src/branch/${data.branch}`;
    const commits = Array.isArray(hook['commits']) ? hook['commits'] : [];
    data.message = str(obj(commits[0])['message']);
  } else if (ref.startsWith(TAG_REF_PREFIX)) {
    data.event = 'tag';
    data.tag = ref.slice(TAG_REF_PREFIX.length);
    data.tagLink = `${webURL}/src/tag/${data.tag}`;
    data.message = `Tag ${data.tag}`;
  } else {
    throw invalidWebhook('gitea', `unsupported ref ${JSON.stringify(ref.slice(0, 200))}`);
  }
  return data;
}

function giteaPullRequest(hook: Record<string, unknown>): WebhookData | null {
  const pr = obj(hook['pull_request']);
  if (str(pr['state']) !== 'open') return null;
  const action = str(hook['action']);
  if (action !== 'opened' && action !== 'synchronized') return null;
  const repo = obj(hook['repository']);
  const webURL = str(repo['html_url']);
  const head = obj(pr['head']);
  const base = obj(pr['base']);
  const sha = str(head['sha']);
  const s = obj(hook['sender']);
  return {
    event: 'pull_request',
    sshURL: str(repo['ssh_url']),
    commitSHA: sha,
    ref: `refs/pull/${str(hook['number'])}/head`,
    commitLink: `${webURL}/commit/${sha}`,
    message: str(pr['title']),
    sender: sender(s),
    avatar: str(s['avatar_url']) || undefined,
    pullRequestID: str(pr['number']) || str(hook['number']),
    pullRequestLink: str(pr['html_url']),
    prFromSameRepo: str(obj(base['repo'])['html_url']) === str(obj(head['repo'])['html_url']),
    repo: { path: repoPathOf(repo), webURL },
  };
}

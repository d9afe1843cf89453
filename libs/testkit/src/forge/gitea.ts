import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hmacHex, type ForgeCore, type ForgeProvider, type HookEvent } from './forge.js';
import type { GitCommit } from './git.js';
import { registerOAuth2 } from './oauth2.js';
import { paginate, type PagingStyle } from './paging.js';
import type { ForgeRepo, ForgeUser } from './state.js';

// Gitea's API (https://gitea.com/api/swagger): token or basic auth, `page`/`limit` paging with
// a Link header and X-Total-Count, errors as {"message", "url"}.
const PAGING: PagingStyle = {
  pageParam: 'page',
  perPageParam: 'limit',
  defaultPerPage: 30,
  maxPerPage: 50,
  totalCountHeader: true,
};

const STATES = new Set(['pending', 'success', 'error', 'failure', 'warning']);

type Params = { owner: string; repo: string };

function userJSON(core: ForgeCore, user: ForgeUser) {
  return {
    id: user.id,
    login: user.login,
    username: user.login,
    login_name: '',
    full_name: user.login,
    email: user.email,
    avatar_url: `${core.url}/avatars/${user.id}`,
  };
}

function repoJSON(core: ForgeCore, repo: ForgeRepo, login?: string, fork?: boolean) {
  const owner = core.ownerOf(repo);
  const access = core.state.access(repo, login);
  const forkOwner = fork
    ? {
        ...userJSON(core, owner),
        id: owner.id + 100000,
        login: 'fork-owner',
        username: 'fork-owner',
      }
    : undefined;
  const path = fork ? `fork-owner/${repo.name}` : repo.path;
  return {
    id: fork ? repo.id + 100000 : repo.id,
    owner: forkOwner ?? userJSON(core, owner),
    name: repo.name,
    full_name: path,
    description: '',
    private: repo.private,
    fork: Boolean(fork),
    html_url: `${core.url}/${path}`,
    ssh_url: core.sshURLOf(path),
    clone_url: `${core.url}/${path}.git`,
    default_branch: repo.defaultBranch,
    permissions: {
      admin: access === 'admin',
      push: access === 'admin' || access === 'write',
      pull: core.state.canRead(repo, login),
    },
  };
}

function commitJSON(core: ForgeCore, repo: ForgeRepo, c: GitCommit) {
  return {
    id: c.sha,
    message: c.message + '\n',
    url: `${core.htmlURL(repo)}/commit/${c.sha}`,
    author: { name: c.authorName, email: c.authorEmail, username: c.authorName },
    committer: { name: c.authorName, email: c.authorEmail, username: c.authorName },
    timestamp: c.timestamp,
  };
}

function fail(core: ForgeCore, reply: FastifyReply, status: number, message: string) {
  return core.fail(reply, status, message);
}

function repoPath(req: FastifyRequest): string {
  const p = req.params as Params;
  return `${p.owner}/${p.repo}`;
}

/** The Gitea personality of the forge simulator. */
export const giteaProvider: ForgeProvider = {
  apiPrefix: '/api/v1',
  errorBody(status, message) {
    const text =
      status === 404
        ? 'The target couldn\u2019t be found.'
        : status === 401
          ? 'token is required'
          : message;
    return { message: text, url: 'https://gitea.example.test/api/swagger' };
  },
  hookHeaders(hook, event, body) {
    const id = randomUUID();
    const headers: Record<string, string> = {
      'x-gitea-event': event.event,
      'x-gitea-event-type': event.event,
      'x-gitea-delivery': id,
      'x-gogs-event': event.event,
      'x-github-event': event.event,
      'user-agent': 'Go-http-client/1.1',
    };
    if (hook.secret) {
      headers['x-gitea-signature'] = hmacHex('sha256', hook.secret, body);
      headers['x-hub-signature-256'] = `sha256=${hmacHex('sha256', hook.secret, body)}`;
    }
    return headers;
  },
  pushEvent(core, push): HookEvent {
    const commits = push.commits.map((c) => commitJSON(core, push.repo, c));
    return {
      kind: 'push',
      event: 'push',
      payload: {
        ref: push.ref,
        before: push.before,
        after: push.after,
        compare_url: `${core.htmlURL(push.repo)}/compare/${push.before}...${push.after}`,
        commits,
        total_commits: commits.length,
        head_commit: push.headCommit ? commitJSON(core, push.repo, push.headCommit) : null,
        repository: repoJSON(core, push.repo, push.pusher.login),
        pusher: userJSON(core, push.pusher),
        sender: userJSON(core, push.pusher),
      },
    };
  },
  pullEvent(core, { repo, pull, action, sender }): HookEvent {
    const base = repoJSON(core, repo, sender.login);
    const head = repoJSON(core, repo, sender.login, pull.fromFork);
    return {
      kind: 'pull_request',
      event: 'pull_request',
      payload: {
        action: action === 'synchronize' ? 'synchronized' : action,
        number: pull.number,
        pull_request: {
          id: pull.id,
          number: pull.number,
          user: userJSON(core, sender),
          title: pull.title,
          body: '',
          state: action === 'closed' ? 'closed' : 'open',
          html_url: `${core.htmlURL(repo)}/pulls/${pull.number}`,
          mergeable: true,
          merged: false,
          head: { label: pull.head, ref: pull.head, sha: pull.sha, repo_id: head.id, repo: head },
          base: { label: pull.base, ref: pull.base, sha: '', repo_id: base.id, repo: base },
        },
        repository: base,
        sender: userJSON(core, sender),
      },
    };
  },
  register(app, core) {
    registerOAuth2(app, core, {
      authorizePath: '/login/oauth/authorize',
      tokenPath: '/login/oauth/access_token',
      expiresIn: 3600,
      tokenType: 'bearer',
    });
    const api = '/api/v1';

    app.get(`${api}/user`, (req, reply) => {
      const user = core.requireUser(req, reply);
      if (!user) return reply;
      return userJSON(core, user);
    });

    app.get(`${api}/user/repos`, (req, reply) => {
      const user = core.requireUser(req, reply);
      if (!user) return reply;
      const repos = [...core.state.repos.values()]
        .filter((r) => core.state.access(r, user.login) !== undefined)
        .sort((a, b) => a.id - b.id);
      return paginate(req, reply, repos, PAGING, core.url).map((r) =>
        repoJSON(core, r, user.login),
      );
    });

    // Tokens: basic auth of the user only (Gitea refuses tokens here).
    const basicUser = (req: FastifyRequest, reply: FastifyReply): ForgeUser | undefined => {
      const header = req.headers['authorization'] ?? '';
      const user = header.toLowerCase().startsWith('basic ') ? core.authUser(req) : undefined;
      const { username } = req.params as { username: string };
      if (!user || user.login !== username || !header) {
        fail(core, reply, 401, 'unauthorized');
        return undefined;
      }
      return user;
    };
    app.get(`${api}/users/:username/tokens`, (req, reply) => {
      const user = basicUser(req, reply);
      if (!user) return reply;
      const tokens = [...core.state.tokens.values()].filter(
        (t) => t.login === user.login && !t.name.startsWith('oauth2-'),
      );
      // Gitea shows a token's value only when it is created.
      return paginate(req, reply, tokens, PAGING, core.url).map((t) => ({
        id: t.id,
        name: t.name,
        sha1: '',
        token_last_eight: t.value.slice(-8),
        scopes: t.scopes,
      }));
    });
    app.post(`${api}/users/:username/tokens`, (req, reply) => {
      const user = basicUser(req, reply);
      if (!user) return reply;
      const body = (req.body ?? {}) as { name?: unknown; scopes?: unknown };
      if (typeof body.name !== 'string' || body.name === '')
        return fail(core, reply, 422, '[Name]: Required');
      for (const t of core.state.tokens.values())
        if (t.login === user.login && t.name === body.name)
          return fail(core, reply, 400, 'access token name has been used already');
      const value = core.state.randomToken();
      const token = {
        id: core.state.nextId(),
        name: body.name,
        value,
        login: user.login,
        scopes: Array.isArray(body.scopes) ? body.scopes.map(String) : [],
      };
      core.state.tokens.set(value, token);
      return reply.code(201).send({
        id: token.id,
        name: token.name,
        sha1: value,
        token_last_eight: value.slice(-8),
        scopes: token.scopes,
      });
    });
    app.delete(`${api}/users/:username/tokens/:token`, (req, reply) => {
      const user = basicUser(req, reply);
      if (!user) return reply;
      const { token } = req.params as { token: string };
      for (const t of core.state.tokens.values()) {
        if (t.login === user.login && (t.name === token || String(t.id) === token)) {
          core.state.tokens.delete(t.value);
          return reply.code(204).send();
        }
      }
      return fail(core, reply, 404, 'not found');
    });

    app.get(`${api}/repos/:owner/:repo`, (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      return repoJSON(core, found.repo, found.user?.login);
    });

    app.get(`${api}/repos/:owner/:repo/raw/*`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const file = (req.params as { '*': string })['*'];
      const ref = (req.query as { ref?: string }).ref ?? found.repo.defaultBranch;
      const data = await core.readFile(found.repo, ref, file);
      if (!data) return fail(core, reply, 404, 'not found');
      return reply.type('text/plain; charset=utf-8').send(data);
    });

    app.get(`${api}/repos/:owner/:repo/keys`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      return paginate(req, reply, found.repo.keys, PAGING, core.url).map((k) =>
        keyJSON(core, found.repo, k),
      );
    });
    app.post(`${api}/repos/:owner/:repo/keys`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const body = (req.body ?? {}) as { title?: unknown; key?: unknown; read_only?: unknown };
      if (
        typeof body.title !== 'string' ||
        !body.title ||
        typeof body.key !== 'string' ||
        !body.key
      )
        return fail(core, reply, 422, '[Title] [Key]: Required');
      if (found.repo.keys.some((k) => k.key === body.key))
        return fail(core, reply, 422, 'Key content has been used as non-deploy key');
      const key = core.addKey(found.repo, body.title, body.key, body.read_only === true);
      return reply.code(201).send(keyJSON(core, found.repo, key));
    });
    app.delete(`${api}/repos/:owner/:repo/keys/:id`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const id = Number((req.params as { id: string }).id);
      const i = found.repo.keys.findIndex((k) => k.id === id);
      if (i < 0) return fail(core, reply, 404, 'not found');
      found.repo.keys.splice(i, 1);
      return reply.code(204).send();
    });

    app.get(`${api}/repos/:owner/:repo/hooks`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      return paginate(req, reply, found.repo.hooks, PAGING, core.url).map(hookJSON);
    });
    app.post(`${api}/repos/:owner/:repo/hooks`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const body = (req.body ?? {}) as {
        type?: unknown;
        config?: Record<string, unknown>;
        events?: unknown;
        active?: unknown;
      };
      const config = body.config ?? {};
      if (
        body.type !== 'gitea' ||
        typeof config['url'] !== 'string' ||
        typeof config['content_type'] !== 'string'
      )
        return fail(
          core,
          reply,
          422,
          'Invalid hook: type, config.url and config.content_type are required',
        );
      const events = Array.isArray(body.events) ? body.events.map(String) : ['push'];
      const hook = core.addHook(found.repo, {
        url: config['url'],
        secret: typeof config['secret'] === 'string' ? config['secret'] : '',
        contentType: config['content_type'],
        // Gitea sends tag pushes as push events too
        events: events.includes('push') ? [...events, 'tag_push'] : events,
        active: body.active === true,
      });
      return reply.code(201).send(hookJSON(hook));
    });
    app.delete(`${api}/repos/:owner/:repo/hooks/:id`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const id = Number((req.params as { id: string }).id);
      const i = found.repo.hooks.findIndex((h) => h.id === id);
      if (i < 0) return fail(core, reply, 404, 'not found');
      found.repo.hooks.splice(i, 1);
      return reply.code(204).send();
    });

    app.post(`${api}/repos/:owner/:repo/statuses/:sha`, async (req, reply) => {
      const found = core.writableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const { sha } = req.params as { sha: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body['state'] !== 'string' || !STATES.has(body['state']))
        return fail(core, reply, 422, '[State]: invalid');
      const commit = await core.readCommit(found.repo, sha);
      if (!commit) return fail(core, reply, 404, 'not found');
      const status = core.addStatus(found.repo, {
        sha: commit.sha,
        state: body['state'],
        targetURL: String(body['target_url'] ?? ''),
        description: String(body['description'] ?? ''),
        context: String(body['context'] ?? ''),
        creator: found.user.login,
      });
      return reply.code(201).send(statusJSON(core, status));
    });
    app.get(`${api}/repos/:owner/:repo/statuses/:sha`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const { sha } = req.params as { sha: string };
      const commit = await core.readCommit(found.repo, sha);
      if (!commit) return fail(core, reply, 404, 'not found');
      const list = found.repo.statuses.filter((s) => s.sha === commit.sha).reverse();
      return paginate(req, reply, list, PAGING, core.url).map((s) => statusJSON(core, s));
    });

    app.get(`${api}/repos/:owner/:repo/git/refs/*`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const want = `refs/${(req.params as { '*': string })['*']}`;
      const refs = await core.refs(found.repo);
      const matching = [...refs].filter(([name]) => name === want || name.startsWith(want + '/'));
      if (matching.length === 0) return fail(core, reply, 404, 'not found');
      const out = [];
      for (const [name, sha] of matching) {
        out.push({
          ref: name,
          url: `${core.apiURL}/repos/${found.repo.path}/git/${name}`,
          object: {
            type: 'commit',
            sha,
            url: `${core.apiURL}/repos/${found.repo.path}/git/commits/${sha}`,
          },
        });
      }
      return out;
    });

    app.get(`${api}/repos/:owner/:repo/git/commits/:sha`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const commit = await core.readCommit(found.repo, (req.params as { sha: string }).sha);
      if (!commit) return fail(core, reply, 404, 'not found');
      const author = { name: commit.authorName, email: commit.authorEmail, date: commit.timestamp };
      return {
        url: `${core.apiURL}/repos/${found.repo.path}/git/commits/${commit.sha}`,
        sha: commit.sha,
        html_url: `${core.htmlURL(found.repo)}/commit/${commit.sha}`,
        commit: {
          message: commit.message + '\n',
          author,
          committer: author,
          tree: { sha: commit.tree },
        },
        parents: commit.parents.map((sha) => ({ sha })),
      };
    });
  },
};

function keyJSON(
  core: ForgeCore,
  repo: ForgeRepo,
  k: { id: number; title: string; key: string; readOnly: boolean; createdAt: string },
) {
  return {
    id: k.id,
    key_id: k.id,
    key: k.key,
    url: `${core.apiURL}/repos/${repo.path}/keys/${k.id}`,
    title: k.title,
    fingerprint: '',
    created_at: k.createdAt,
    read_only: k.readOnly,
  };
}

function hookJSON(h: {
  id: number;
  url: string;
  contentType: string;
  events: string[];
  active: boolean;
  createdAt: string;
}) {
  return {
    id: h.id,
    type: 'gitea',
    config: { url: h.url, content_type: h.contentType },
    events: h.events.filter((e) => e !== 'tag_push'),
    active: h.active,
    created_at: h.createdAt,
    updated_at: h.createdAt,
  };
}

function statusJSON(
  core: ForgeCore,
  s: {
    id: number;
    state: string;
    targetURL: string;
    description: string;
    context: string;
    createdAt: string;
    creator: string;
  },
) {
  const creator = core.state.users.get(s.creator);
  return {
    id: s.id,
    status: s.state,
    target_url: s.targetURL,
    description: s.description,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.createdAt,
    creator: creator ? userJSON(core, creator) : null,
  };
}

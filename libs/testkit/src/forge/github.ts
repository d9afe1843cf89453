import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hmacHex, type ForgeCore, type ForgeProvider, type HookEvent } from './forge.js';
import type { GitCommit } from './git.js';
import { registerOAuth2 } from './oauth2.js';
import { paginate, type PagingStyle } from './paging.js';
import type { ForgeDeployKey, ForgeHook, ForgeRepo, ForgeStatus, ForgeUser } from './state.js';

// GitHub's REST API (https://docs.github.com/rest) in GitHub Enterprise's layout (under
// /api/v3): `per_page`/`page` paging with a Link header, errors as {"message",
// "documentation_url", "status"}.
const PAGING: PagingStyle = {
  pageParam: 'page',
  perPageParam: 'per_page',
  defaultPerPage: 30,
  maxPerPage: 100,
};

const STATES = new Set(['pending', 'success', 'error', 'failure']);

type Params = { owner: string; repo: string };

function userJSON(core: ForgeCore, user: ForgeUser) {
  return {
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    avatar_url: `${core.url}/avatars/${user.id}`,
    html_url: `${core.url}/${user.login}`,
    type: 'User',
    site_admin: false,
  };
}

function repoJSON(
  core: ForgeCore,
  repo: ForgeRepo,
  login?: string,
  options: { fork?: boolean; push?: boolean } = {},
) {
  const owner = core.ownerOf(repo);
  const access = core.state.access(repo, login);
  const ownerLogin = options.fork ? 'fork-owner' : owner.login;
  const path = `${ownerLogin}/${repo.name}`;
  const ownerJSON = options.fork
    ? { ...userJSON(core, owner), login: ownerLogin, id: owner.id + 100000 }
    : userJSON(core, owner);
  return {
    id: options.fork ? repo.id + 100000 : repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: path,
    private: repo.private,
    // push events also carry the owner's name and email
    owner: options.push ? { ...ownerJSON, name: ownerLogin, email: owner.email } : ownerJSON,
    html_url: `${core.url}/${path}`,
    url: `${core.apiURL}/repos/${path}`,
    fork: Boolean(options.fork),
    ssh_url: core.sshURLOf(path),
    clone_url: `${core.url}/${path}.git`,
    git_url: `git://${new URL(core.url).host}/${path}.git`,
    default_branch: repo.defaultBranch,
    permissions: {
      admin: access === 'admin',
      maintain: access === 'admin',
      push: access === 'admin' || access === 'write',
      triage: access !== undefined,
      pull: core.state.canRead(repo, login),
    },
  };
}

function commitJSON(core: ForgeCore, repo: ForgeRepo, c: GitCommit) {
  const person = { name: c.authorName, email: c.authorEmail, username: c.authorName };
  return {
    id: c.sha,
    tree_id: c.tree,
    distinct: true,
    message: c.message,
    timestamp: c.timestamp,
    url: `${core.htmlURL(repo)}/commit/${c.sha}`,
    author: person,
    committer: person,
    added: [],
    removed: [],
    modified: [],
  };
}

function repoPath(req: FastifyRequest): string {
  const p = req.params as Params;
  return `${p.owner}/${p.repo}`;
}

function fail(core: ForgeCore, reply: FastifyReply, status: number, message: string) {
  return core.fail(reply, status, message);
}

/** The GitHub personality of the forge simulator (GitHub Enterprise's URL layout). */
export const githubProvider: ForgeProvider = {
  apiPrefix: '/api/v3',
  errorBody(status, message) {
    const text =
      status === 404
        ? 'Not Found'
        : status === 401
          ? 'Requires authentication'
          : status === 403
            ? 'Must have admin rights to Repository.'
            : message;
    return {
      message: text,
      documentation_url: 'https://docs.github.com/rest',
      status: String(status),
    };
  },
  hookHeaders(hook, event, body) {
    const headers: Record<string, string> = {
      'x-github-event': event.event,
      'x-github-delivery': randomUUID(),
      'x-github-hook-id': String(hook.id),
      'user-agent': 'GitHub-Hookshot/forge-simulator',
    };
    if (hook.secret) {
      headers['x-hub-signature'] = `sha1=${hmacHex('sha1', hook.secret, body)}`;
      headers['x-hub-signature-256'] = `sha256=${hmacHex('sha256', hook.secret, body)}`;
    }
    return headers;
  },
  pushEvent(core, push): HookEvent {
    const zero = '0'.repeat(40);
    const repo = repoJSON(core, push.repo, push.pusher.login, { push: true });
    return {
      kind: 'push',
      event: 'push',
      payload: {
        ref: push.ref,
        before: push.before,
        after: push.after,
        created: push.before === zero,
        deleted: false,
        forced: false,
        base_ref: null,
        compare: `${core.htmlURL(push.repo)}/compare/${push.before.slice(0, 12)}...${push.after.slice(0, 12)}`,
        commits: push.commits.map((c) => commitJSON(core, push.repo, c)),
        head_commit: push.headCommit ? commitJSON(core, push.repo, push.headCommit) : null,
        repository: repo,
        pusher: { name: push.pusher.login, email: push.pusher.email },
        sender: userJSON(core, push.pusher),
      },
    };
  },
  pullEvent(core, { repo, pull, action, sender }): HookEvent {
    const base = repoJSON(core, repo, sender.login);
    const head = repoJSON(core, repo, sender.login, { fork: pull.fromFork });
    return {
      kind: 'pull_request',
      event: 'pull_request',
      payload: {
        action,
        number: pull.number,
        pull_request: {
          url: `${core.apiURL}/repos/${repo.path}/pulls/${pull.number}`,
          id: pull.id,
          html_url: `${core.htmlURL(repo)}/pull/${pull.number}`,
          number: pull.number,
          state: action === 'closed' ? 'closed' : 'open',
          title: pull.title,
          user: userJSON(core, sender),
          head: {
            label: `${head.owner.login}:${pull.head}`,
            ref: pull.head,
            sha: pull.sha,
            user: head.owner,
            repo: head,
          },
          base: {
            label: `${base.owner.login}:${pull.base}`,
            ref: pull.base,
            sha: '',
            user: base.owner,
            repo: base,
          },
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
      github: true,
      expiresIn: 28800,
      tokenType: 'bearer',
    });
    const api = '/api/v3';

    app.get(`${api}/user`, (req, reply) => {
      const user = core.requireUser(req, reply);
      if (!user) return reply;
      return { ...userJSON(core, user), name: user.login, email: user.email };
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

    app.get(`${api}/repos/:owner/:repo`, (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      return repoJSON(core, found.repo, found.user?.login);
    });

    app.get(`${api}/repos/:owner/:repo/contents/*`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const file = (req.params as { '*': string })['*'];
      const ref = (req.query as { ref?: string }).ref ?? found.repo.defaultBranch;
      const data = await core.readFile(found.repo, ref, file);
      if (!data) return fail(core, reply, 404, 'not found');
      const accept = req.headers['accept'] ?? '';
      if (accept.includes('application/vnd.github.raw')) {
        return reply.type('application/vnd.github.raw').send(data);
      }
      const name = file.split('/').pop() ?? file;
      return {
        type: 'file',
        encoding: 'base64',
        size: data.length,
        name,
        path: file,
        content: data.toString('base64'),
        url: `${core.apiURL}/repos/${found.repo.path}/contents/${file}?ref=${encodeURIComponent(ref)}`,
      };
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
      if (typeof body.key !== 'string' || !body.key)
        return reply.code(422).send({
          message: 'Validation Failed',
          errors: [{ resource: 'PublicKey', code: 'missing_field', field: 'key' }],
          documentation_url: 'https://docs.github.com/rest',
          status: '422',
        });
      if (found.repo.keys.some((k) => k.key === body.key))
        return reply.code(422).send({
          message: 'Validation Failed',
          errors: [
            {
              resource: 'PublicKey',
              code: 'custom',
              field: 'key',
              message: 'key is already in use',
            },
          ],
          documentation_url: 'https://docs.github.com/rest',
          status: '422',
        });
      const title = typeof body.title === 'string' ? body.title : '';
      const key = core.addKey(found.repo, title, body.key, body.read_only === true);
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
      return paginate(req, reply, found.repo.hooks, PAGING, core.url).map((h) =>
        hookJSON(core, found.repo, h),
      );
    });
    app.post(`${api}/repos/:owner/:repo/hooks`, (req, reply) => {
      const found = core.adminRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const body = (req.body ?? {}) as {
        name?: unknown;
        config?: Record<string, unknown>;
        events?: unknown;
        active?: unknown;
      };
      const config = body.config ?? {};
      if (typeof config['url'] !== 'string' || !config['url'])
        return reply.code(422).send({
          message: 'Validation Failed',
          errors: [
            { resource: 'Hook', code: 'custom', message: 'Config must contain URL for webhooks' },
          ],
          documentation_url: 'https://docs.github.com/rest',
          status: '422',
        });
      const events = Array.isArray(body.events) ? body.events.map(String) : ['push'];
      const all = events.includes('*');
      const hook = core.addHook(found.repo, {
        url: config['url'],
        secret: typeof config['secret'] === 'string' ? config['secret'] : '',
        contentType: typeof config['content_type'] === 'string' ? config['content_type'] : 'form',
        events:
          all || events.includes('push')
            ? [...events, 'tag_push', ...(all ? ['push', 'pull_request'] : [])]
            : events,
        active: body.active !== false,
      });
      return reply.code(201).send(hookJSON(core, found.repo, hook));
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
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body['state'] !== 'string' || !STATES.has(body['state']))
        return reply.code(422).send({
          message: 'Validation Failed',
          errors: [
            {
              resource: 'Status',
              code: 'custom',
              field: 'state',
              message: 'state is not included in the list',
            },
          ],
          documentation_url: 'https://docs.github.com/rest',
          status: '422',
        });
      const commit = await core.readCommit(found.repo, (req.params as { sha: string }).sha);
      if (!commit)
        return reply.code(422).send({ message: 'No commit found for SHA', status: '422' });
      const status = core.addStatus(found.repo, {
        sha: commit.sha,
        state: body['state'],
        targetURL: typeof body['target_url'] === 'string' ? body['target_url'] : '',
        description: typeof body['description'] === 'string' ? body['description'] : '',
        context: typeof body['context'] === 'string' ? body['context'] : 'default',
        creator: found.user.login,
      });
      return reply.code(201).send(statusJSON(core, status));
    });
    app.get(`${api}/repos/:owner/:repo/commits/:ref/statuses`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const commit = await core.readCommit(found.repo, (req.params as { ref: string }).ref);
      if (!commit) return fail(core, reply, 404, 'not found');
      const list = found.repo.statuses.filter((s) => s.sha === commit.sha).reverse();
      return paginate(req, reply, list, PAGING, core.url).map((s) => statusJSON(core, s));
    });

    app.get(`${api}/repos/:owner/:repo/git/ref/*`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const name = `refs/${(req.params as { '*': string })['*']}`;
      const sha = (await core.refs(found.repo)).get(name);
      if (!sha) return fail(core, reply, 404, 'not found');
      return {
        ref: name,
        node_id: `REF_${sha.slice(0, 8)}`,
        url: `${core.apiURL}/repos/${found.repo.path}/git/${name}`,
        object: {
          type: 'commit',
          sha,
          url: `${core.apiURL}/repos/${found.repo.path}/git/commits/${sha}`,
        },
      };
    });

    app.get(`${api}/repos/:owner/:repo/git/commits/:sha`, async (req, reply) => {
      const found = core.readableRepo(req, reply, repoPath(req));
      if (!found) return reply;
      const { sha } = req.params as { sha: string };
      if (!/^[0-9a-f]{40}$/.test(sha)) return fail(core, reply, 404, 'not found');
      const commit = await core.readCommit(found.repo, sha);
      if (!commit) return fail(core, reply, 404, 'not found');
      const person = { name: commit.authorName, email: commit.authorEmail, date: commit.timestamp };
      return {
        sha: commit.sha,
        node_id: `C_${commit.sha.slice(0, 8)}`,
        url: `${core.apiURL}/repos/${found.repo.path}/git/commits/${commit.sha}`,
        html_url: `${core.htmlURL(found.repo)}/commit/${commit.sha}`,
        author: person,
        committer: person,
        message: commit.message,
        tree: { sha: commit.tree, url: '' },
        parents: commit.parents.map((p) => ({ sha: p, url: '', html_url: '' })),
      };
    });
  },
};

function keyJSON(core: ForgeCore, repo: ForgeRepo, k: ForgeDeployKey) {
  return {
    id: k.id,
    key: k.key,
    url: `${core.apiURL}/repos/${repo.path}/keys/${k.id}`,
    title: k.title,
    verified: true,
    created_at: k.createdAt,
    read_only: k.readOnly,
  };
}

function hookJSON(core: ForgeCore, repo: ForgeRepo, h: ForgeHook) {
  return {
    type: 'Repository',
    id: h.id,
    name: 'web',
    active: h.active,
    events: h.events.filter((e) => e !== 'tag_push'),
    config: {
      content_type: h.contentType,
      insecure_ssl: '0',
      url: h.url,
      ...(h.secret ? { secret: '********' } : {}),
    },
    updated_at: h.createdAt,
    created_at: h.createdAt,
    url: `${core.apiURL}/repos/${repo.path}/hooks/${h.id}`,
  };
}

function statusJSON(core: ForgeCore, s: ForgeStatus) {
  const creator = core.state.users.get(s.creator);
  return {
    id: s.id,
    state: s.state,
    description: s.description,
    target_url: s.targetURL,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.createdAt,
    creator: creator ? userJSON(core, creator) : null,
  };
}

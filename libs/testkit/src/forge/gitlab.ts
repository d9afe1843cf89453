import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ForgeCore, ForgeProvider, HookEvent } from './forge.js';
import type { GitCommit } from './git.js';
import { registerOAuth2 } from './oauth2.js';
import { paginate, type PagingStyle } from './paging.js';
import type {
  ForgeAccess,
  ForgeDeployKey,
  ForgeHook,
  ForgeRepo,
  ForgeStatus,
  ForgeUser,
} from './state.js';

// GitLab's REST API v4 (https://docs.gitlab.com/api/rest/): projects by numeric id or
// URL-encoded path, `page`/`per_page` paging with X-* headers and a Link header, errors as
// {"message": "404 Project Not Found"}.
const PAGING: PagingStyle = {
  pageParam: 'page',
  perPageParam: 'per_page',
  defaultPerPage: 20,
  maxPerPage: 100,
  gitlabHeaders: true,
};

const STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled', 'skipped']);

const LEVEL: Record<ForgeAccess, number> = { read: 20, write: 30, admin: 40 };

function level(core: ForgeCore, repo: ForgeRepo, login: string | undefined): number {
  if (login && repo.owner === login) return 50;
  const access = core.state.access(repo, login);
  return access ? LEVEL[access] : 0;
}

function userJSON(core: ForgeCore, user: ForgeUser) {
  return {
    id: user.id,
    username: user.login,
    name: user.login,
    state: 'active',
    avatar_url: `${core.url}/avatars/${user.id}`,
    web_url: `${core.url}/${user.login}`,
  };
}

function projectURLs(core: ForgeCore, path: string) {
  return {
    web_url: `${core.url}/${path}`,
    ssh_url_to_repo: core.sshURLOf(path),
    http_url_to_repo: `${core.url}/${path}.git`,
  };
}

function projectJSON(core: ForgeCore, repo: ForgeRepo, login?: string) {
  const lvl = level(core, repo, login);
  return {
    id: repo.id,
    name: repo.name,
    path: repo.name,
    path_with_namespace: repo.path,
    name_with_namespace: `${repo.owner} / ${repo.name}`,
    default_branch: repo.defaultBranch,
    visibility: repo.private ? 'private' : 'public',
    namespace: {
      id: core.ownerOf(repo).id,
      name: repo.owner,
      path: repo.owner,
      kind: 'user',
      full_path: repo.owner,
    },
    ...projectURLs(core, repo.path),
    permissions: {
      project_access: lvl > 0 ? { access_level: lvl, notification_level: 3 } : null,
      group_access: null,
    },
  };
}

/** The project of a webhook payload (`project` and the MR's `source`/`target`). */
function hookProjectJSON(core: ForgeCore, repo: ForgeRepo, fork = false) {
  const path = fork ? `fork-owner/${repo.name}` : repo.path;
  const urls = projectURLs(core, path);
  return {
    id: fork ? repo.id + 100000 : repo.id,
    name: repo.name,
    description: '',
    web_url: urls.web_url,
    avatar_url: null,
    git_ssh_url: urls.ssh_url_to_repo,
    git_http_url: urls.http_url_to_repo,
    namespace: fork ? 'fork-owner' : repo.owner,
    visibility_level: repo.private ? 0 : 20,
    path_with_namespace: path,
    default_branch: repo.defaultBranch,
    homepage: urls.web_url,
    url: urls.ssh_url_to_repo,
    ssh_url: urls.ssh_url_to_repo,
    http_url: urls.http_url_to_repo,
  };
}

function commitJSON(core: ForgeCore, repo: ForgeRepo, c: GitCommit) {
  return {
    id: c.sha,
    message: c.message + '\n',
    title: c.message.split('\n')[0] ?? '',
    timestamp: c.timestamp,
    url: `${core.htmlURL(repo)}/-/commit/${c.sha}`,
    author: { name: c.authorName, email: c.authorEmail },
    added: [],
    modified: [],
    removed: [],
  };
}

function projectRef(core: ForgeCore, req: FastifyRequest): string {
  const { id } = req.params as { id: string };
  if (/^\d+$/.test(id)) return core.state.repoById(Number(id))?.path ?? '';
  return id;
}

function restAPIsRepo(
  core: ForgeCore,
  req: FastifyRequest,
  reply: FastifyReply,
  need: 'read' | 'write' | 'admin',
) {
  const path = projectRef(core, req);
  if (need === 'read') return core.readableRepo(req, reply, path);
  if (need === 'write') return core.writableRepo(req, reply, path);
  return core.adminRepo(req, reply, path);
}

/** The GitLab personality of the forge simulator. */
export const gitlabProvider: ForgeProvider = {
  apiPrefix: '/api/v4',
  errorBody(status, message) {
    const text =
      status === 404
        ? '404 Project Not Found'
        : status === 401
          ? '401 Unauthorized'
          : status === 403
            ? '403 Forbidden'
            : message;
    return { message: text };
  },
  hookHeaders(hook, event) {
    const headers: Record<string, string> = {
      'x-gitlab-event': event.event,
      'x-gitlab-event-uuid': randomUUID(),
      'x-gitlab-webhook-uuid': randomUUID(),
      'x-gitlab-instance': 'http://gitlab.example.test',
      'user-agent': 'GitLab/17.0.0',
    };
    // GitLab does not sign payloads: it sends the hook's secret token back as is.
    if (hook.secret) headers['x-gitlab-token'] = hook.secret;
    return headers;
  },
  pushEvent(core, push): HookEvent {
    const tag = push.ref.startsWith('refs/tags/');
    const user = push.pusher;
    const project = hookProjectJSON(core, push.repo);
    return {
      kind: tag ? 'tag_push' : 'push',
      event: tag ? 'Tag Push Hook' : 'Push Hook',
      payload: {
        object_kind: tag ? 'tag_push' : 'push',
        event_name: tag ? 'tag_push' : 'push',
        before: push.before,
        after: push.after,
        ref: push.ref,
        ref_protected: false,
        checkout_sha: push.headCommit?.sha ?? push.after,
        message: null,
        user_id: user.id,
        user_name: user.login,
        user_username: user.login,
        user_email: user.email,
        user_avatar: `${core.url}/avatars/${user.id}`,
        project_id: push.repo.id,
        project,
        commits: push.commits.map((c) => commitJSON(core, push.repo, c)),
        total_commits_count: push.commits.length,
        repository: {
          name: push.repo.name,
          url: project.ssh_url,
          description: '',
          homepage: project.web_url,
          git_http_url: project.git_http_url,
          git_ssh_url: project.git_ssh_url,
          visibility_level: project.visibility_level,
        },
      },
    };
  },
  pullEvent(core, { repo, pull, action, sender }): HookEvent {
    const target = hookProjectJSON(core, repo);
    const source = hookProjectJSON(core, repo, pull.fromFork);
    const url = `${core.htmlURL(repo)}/-/merge_requests/${pull.number}`;
    return {
      kind: 'pull_request',
      event: 'Merge Request Hook',
      payload: {
        object_kind: 'merge_request',
        event_type: 'merge_request',
        user: {
          id: sender.id,
          name: sender.login,
          username: sender.login,
          avatar_url: `${core.url}/avatars/${sender.id}`,
        },
        project: target,
        object_attributes: {
          id: pull.id,
          iid: pull.number,
          title: pull.title,
          description: '',
          state: action === 'closed' ? 'closed' : 'opened',
          action: action === 'opened' ? 'open' : action === 'synchronize' ? 'update' : 'close',
          url,
          source_branch: pull.head,
          target_branch: pull.base,
          source_project_id: source.id,
          target_project_id: target.id,
          source,
          target,
          last_commit: {
            id: pull.sha,
            message: pull.title,
            url: `${core.htmlURL(repo)}/-/commit/${pull.sha}`,
            author: { name: sender.login, email: sender.email },
          },
        },
        repository: {
          name: repo.name,
          url: target.ssh_url,
          description: '',
          homepage: target.web_url,
        },
      },
    };
  },
  register(app, core) {
    registerOAuth2(app, core, {
      authorizePath: '/oauth/authorize',
      tokenPath: '/oauth/token',
      expiresIn: 7200,
      tokenType: 'Bearer',
    });
    const api = '/api/v4';
    const P = `${api}/projects/:id`;

    app.get(`${api}/user`, (req, reply) => {
      const user = core.requireUser(req, reply);
      if (!user) return reply;
      return { ...userJSON(core, user), email: user.email, public_email: '' };
    });

    app.get(`${api}/projects`, (req, reply) => {
      const user = core.authUser(req);
      const q = req.query as Record<string, string | undefined>;
      const min = Number.parseInt(q['min_access_level'] ?? '0', 10) || 0;
      const membership = q['membership'] === 'true' || min > 0;
      const repos = [...core.state.repos.values()]
        .filter((r) => core.state.canRead(r, user?.login))
        .filter((r) => !membership || level(core, r, user?.login) >= Math.max(min, 10))
        .sort((a, b) => b.id - a.id);
      return paginate(req, reply, repos, PAGING, core.url).map((r) =>
        projectJSON(core, r, user?.login),
      );
    });

    app.get(P, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      return projectJSON(core, found.repo, found.user?.login);
    });

    const fileRoute = (raw: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      const file = (req.params as { file: string }).file;
      const ref = (req.query as { ref?: string }).ref;
      if (!ref && !raw) return reply.code(400).send({ error: 'ref is missing' });
      const data = await core.readFile(found.repo, ref ?? found.repo.defaultBranch, file);
      if (!data) return reply.code(404).send({ message: '404 File Not Found' });
      if (raw) return reply.type('text/plain; charset=utf-8').send(data);
      const commit = await core.readCommit(found.repo, ref ?? found.repo.defaultBranch);
      return {
        file_name: file.split('/').pop() ?? file,
        file_path: file,
        size: data.length,
        encoding: 'base64',
        content: data.toString('base64'),
        ref,
        commit_id: commit?.sha ?? '',
        last_commit_id: commit?.sha ?? '',
      };
    };
    app.get(`${P}/repository/files/:file/raw`, fileRoute(true));
    app.get(`${P}/repository/files/:file`, fileRoute(false));

    app.get(`${P}/deploy_keys`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      return paginate(req, reply, found.repo.keys, PAGING, core.url).map(keyJSON);
    });
    app.post(`${P}/deploy_keys`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      const body = (req.body ?? {}) as { title?: unknown; key?: unknown; can_push?: unknown };
      if (typeof body.title !== 'string' || !body.title)
        return reply.code(400).send({ error: 'title is missing' });
      if (typeof body.key !== 'string' || !body.key)
        return reply.code(400).send({ error: 'key is missing' });
      if (found.repo.keys.some((k) => k.key === body.key))
        return reply
          .code(400)
          .send({ message: { 'deploy_key.fingerprint_sha256': ['has already been taken'] } });
      const key = core.addKey(found.repo, body.title, body.key, body.can_push !== true);
      return reply.code(201).send(keyJSON(key));
    });
    app.delete(`${P}/deploy_keys/:keyId`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      const id = Number((req.params as { keyId: string }).keyId);
      const i = found.repo.keys.findIndex((k) => k.id === id);
      if (i < 0) return reply.code(404).send({ message: '404 Deploy key Not Found' });
      found.repo.keys.splice(i, 1);
      return reply.code(204).send();
    });

    app.get(`${P}/hooks`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      return paginate(req, reply, found.repo.hooks, PAGING, core.url).map((h) =>
        hookJSON(found.repo, h),
      );
    });
    app.post(`${P}/hooks`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body['url'] !== 'string' || !body['url'])
        return reply.code(400).send({ error: 'url is missing' });
      const events: string[] = [];
      if (body['push_events'] !== false) events.push('push');
      if (body['tag_push_events'] === true) events.push('tag_push');
      if (body['merge_requests_events'] === true) events.push('pull_request');
      const hook = core.addHook(found.repo, {
        url: body['url'],
        secret: typeof body['token'] === 'string' ? body['token'] : '',
        contentType: 'json',
        events,
        active: true,
      });
      return reply.code(201).send(hookJSON(found.repo, hook));
    });
    app.delete(`${P}/hooks/:hookId`, (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'admin');
      if (!found) return reply;
      const id = Number((req.params as { hookId: string }).hookId);
      const i = found.repo.hooks.findIndex((h) => h.id === id);
      if (i < 0) return reply.code(404).send({ message: '404 Not found' });
      found.repo.hooks.splice(i, 1);
      return reply.code(204).send();
    });

    app.post(`${P}/statuses/:sha`, async (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'write');
      if (!found) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body['state'] !== 'string' || !STATES.has(body['state']))
        return reply.code(400).send({ error: 'state does not have a valid value' });
      const commit = await core.readCommit(found.repo, (req.params as { sha: string }).sha);
      if (!commit) return reply.code(404).send({ message: '404 Commit Not Found' });
      const name =
        typeof body['name'] === 'string'
          ? body['name']
          : typeof body['context'] === 'string'
            ? body['context']
            : 'default';
      const status = core.addStatus(found.repo, {
        sha: commit.sha,
        state: body['state'],
        targetURL: typeof body['target_url'] === 'string' ? body['target_url'] : '',
        description: typeof body['description'] === 'string' ? body['description'] : '',
        context: name,
        creator: found.user?.login ?? '',
      });
      return reply.code(201).send(statusJSON(core, status));
    });
    app.get(`${P}/repository/commits/:sha/statuses`, async (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      const commit = await core.readCommit(found.repo, (req.params as { sha: string }).sha);
      if (!commit) return reply.code(404).send({ message: '404 Commit Not Found' });
      const list = found.repo.statuses.filter((s) => s.sha === commit.sha);
      return paginate(req, reply, list, PAGING, core.url).map((s) => statusJSON(core, s));
    });

    app.get(`${P}/repository/branches/:branch`, async (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      const { branch } = req.params as { branch: string };
      const sha = (await core.refs(found.repo)).get(`refs/heads/${branch}`);
      if (!sha) return reply.code(404).send({ message: '404 Branch Not Found' });
      const commit = await core.readCommit(found.repo, sha);
      return {
        name: branch,
        merged: false,
        protected: false,
        default: branch === found.repo.defaultBranch,
        commit: commit && commitAPIJSON(core, found.repo, commit),
      };
    });
    app.get(`${P}/repository/tags/:tag`, async (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      const { tag } = req.params as { tag: string };
      const sha = (await core.refs(found.repo)).get(`refs/tags/${tag}`);
      if (!sha) return reply.code(404).send({ message: '404 Tag Not Found' });
      const commit = await core.readCommit(found.repo, sha);
      return {
        name: tag,
        message: '',
        target: sha,
        protected: false,
        commit: commit && commitAPIJSON(core, found.repo, commit),
      };
    });
    app.get(`${P}/repository/commits/:sha`, async (req, reply) => {
      const found = restAPIsRepo(core, req, reply, 'read');
      if (!found) return reply;
      const commit = await core.readCommit(found.repo, (req.params as { sha: string }).sha);
      if (!commit) return reply.code(404).send({ message: '404 Commit Not Found' });
      return commitAPIJSON(core, found.repo, commit);
    });
  },
};

function commitAPIJSON(core: ForgeCore, repo: ForgeRepo, c: GitCommit) {
  return {
    id: c.sha,
    short_id: c.sha.slice(0, 8),
    title: c.message.split('\n')[0] ?? '',
    message: c.message + '\n',
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_date: c.timestamp,
    committer_name: c.authorName,
    committer_email: c.authorEmail,
    committed_date: c.timestamp,
    created_at: c.timestamp,
    parent_ids: c.parents,
    web_url: `${core.htmlURL(repo)}/-/commit/${c.sha}`,
  };
}

function keyJSON(k: ForgeDeployKey) {
  return {
    id: k.id,
    title: k.title,
    key: k.key,
    created_at: k.createdAt,
    can_push: !k.readOnly,
    expires_at: null,
  };
}

function hookJSON(repo: ForgeRepo, h: ForgeHook) {
  return {
    id: h.id,
    url: h.url,
    project_id: repo.id,
    push_events: h.events.includes('push'),
    tag_push_events: h.events.includes('tag_push'),
    merge_requests_events: h.events.includes('pull_request'),
    enable_ssl_verification: true,
    created_at: h.createdAt,
  };
}

function statusJSON(core: ForgeCore, s: ForgeStatus) {
  const author = core.state.users.get(s.creator);
  return {
    id: s.id,
    sha: s.sha,
    ref: null,
    status: s.state,
    name: s.context,
    target_url: s.targetURL,
    description: s.description,
    created_at: s.createdAt,
    started_at: null,
    finished_at: null,
    allow_failure: false,
    author: author ? userJSON(core, author) : null,
  };
}

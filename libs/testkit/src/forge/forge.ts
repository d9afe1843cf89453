import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from '../codes.js';
import {
  commitsBetween,
  git,
  initBare,
  listRefs,
  readCommit,
  readFileAt,
  repoDir,
  serveGitHttp,
  type GitCommit,
} from './git.js';
import {
  ForgeState,
  type ForgeAccess,
  type ForgeDeployKey,
  type ForgeHook,
  type ForgePull,
  type ForgeRepo,
  type ForgeStatus,
  type ForgeUser,
} from './state.js';
import { giteaProvider } from './gitea.js';
import { githubProvider } from './github.js';
import { gitlabProvider } from './gitlab.js';

/** The forge products the simulator imitates. */
export type ForgeType = 'gitea' | 'github' | 'gitlab';

/** Options of {@link startForge}. */
export interface StartForgeOptions {
  type: ForgeType;
  /**
   * Report the HTTP clone URL wherever the provider gives its SSH clone URL (repo JSON and
   * webhook payloads). The simulator has no SSH server: with this, a run that clones the
   * webhook's SSH URL (Agola's `AGOLA_REPOSITORY_URL`) clones over HTTP instead.
   * @default false
   */
  sshURLAsHTTP?: boolean;
}

/** A user created by {@link Forge.addUser}, with a personal access token. */
export interface ForgeUserInfo {
  id: number;
  login: string;
  password: string;
  email: string;
  /** A personal access token of the user (full access). */
  token: string;
}

/** A repository created by {@link Forge.createRepo}. */
export interface ForgeRepoInfo {
  id: number;
  /** `owner/name`. */
  path: string;
  /** HTTP clone URL (served by `git http-backend`). */
  cloneURL: string;
  htmlURL: string;
  sshURL: string;
  /** The bare repository on disk. */
  dir: string;
}

/** One webhook delivery made by the simulator. */
export interface ForgeDelivery {
  hookId: number;
  url: string;
  /** The provider's event name (`push`, `Push Hook`, `pull_request`...). */
  event: string;
  headers: Record<string, string>;
  body: string;
  /** The receiver's HTTP status, or 0 when the request failed. */
  status: number;
  /** When the delivery was sent (`Date.now()`). */
  sentAt: number;
  /** How long the receiver took to answer, in ms. */
  durationMs: number;
}

/** What a push did to one ref, given to the provider's payload builder. */
export interface PushInfo {
  repo: ForgeRepo;
  ref: string;
  before: string;
  after: string;
  commits: GitCommit[];
  headCommit: GitCommit | undefined;
  pusher: ForgeUser;
}

/** What a pull request event carries. */
export interface PullInfo {
  repo: ForgeRepo;
  pull: ForgePull;
  action: 'opened' | 'synchronize' | 'closed';
  sender: ForgeUser;
}

/** A webhook request to send: the event name, headers (no signature yet) and JSON payload. */
export interface HookEvent {
  /** Which hook subscriptions receive it (`push`, `tag_push`, `pull_request`). */
  kind: 'push' | 'tag_push' | 'pull_request';
  event: string;
  payload: unknown;
}

/** A provider personality: its API routes and its webhook formats. */
export interface ForgeProvider {
  /** Where the REST API lives under the server (`/api/v1`, `/api/v3`, `/api/v4`). */
  apiPrefix: string;
  register(app: FastifyInstance, core: ForgeCore): void;
  pushEvent(core: ForgeCore, push: PushInfo): HookEvent;
  pullEvent(core: ForgeCore, info: PullInfo): HookEvent;
  /** Headers carrying the event, the delivery id and the signature for `body`. */
  hookHeaders(hook: ForgeHook, event: HookEvent, body: string): Record<string, string>;
  /** The error body of a status. */
  errorBody(status: number, message: string): unknown;
}

/** HMAC-SHA256 (or another digest) of a body, hex-encoded. */
export function hmacHex(algorithm: string, secret: string, body: string): string {
  return createHmac(algorithm, secret).update(body).digest('hex');
}

/** The parts of the simulator the provider modules use. */
export class ForgeCore {
  readonly state = new ForgeState();
  readonly deliveries: ForgeDelivery[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  url = '';

  constructor(
    readonly type: ForgeType,
    readonly provider: ForgeProvider,
    readonly root: string,
    private readonly sshURLAsHTTP = false,
  ) {}

  /** The provider's pull request head ref. */
  pullRef(number: number): string {
    return this.type === 'gitlab'
      ? `refs/merge-requests/${number}/head`
      : `refs/pull/${number}/head`;
  }

  /** The SSH clone URL of a repo path (its HTTP clone URL with `sshURLAsHTTP`). */
  sshURLOf(path: string): string {
    if (this.sshURLAsHTTP) return `${this.url}/${path}.git`;
    return `ssh://git@${new URL(this.url).host}/${path}.git`;
  }

  get apiURL(): string {
    return this.url + this.provider.apiPrefix;
  }

  /** The owner of a repo (repos are only created for existing users). */
  ownerOf(repo: ForgeRepo): ForgeUser {
    const user = this.state.users.get(repo.owner);
    if (!user)
      throw newError(`forge: no user ${repo.owner}`, { code: TestkitErrorCodes.ForgeUsage });
    return user;
  }

  repoInfo(repo: ForgeRepo): ForgeRepoInfo {
    return {
      id: repo.id,
      path: repo.path,
      cloneURL: this.cloneURL(repo),
      htmlURL: this.htmlURL(repo),
      sshURL: this.sshURL(repo),
      dir: repo.dir,
    };
  }

  cloneURL(repo: ForgeRepo): string {
    return `${this.url}/${repo.path}.git`;
  }

  htmlURL(repo: ForgeRepo): string {
    return `${this.url}/${repo.path}`;
  }

  sshURL(repo: ForgeRepo): string {
    return this.sshURLOf(repo.path);
  }

  /** The authenticated user of a request: `Authorization: token|bearer|basic`, or `PRIVATE-TOKEN`. */
  authUser(req: { headers: IncomingMessage['headers'] }): ForgeUser | undefined {
    const header = req.headers['authorization'];
    const priv = req.headers['private-token'];
    if (typeof priv === 'string') return this.state.userOfToken(priv);
    if (typeof header !== 'string') return undefined;
    const space = header.indexOf(' ');
    if (space < 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'token' || scheme === 'bearer') return this.state.userOfToken(value);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const user = this.state.users.get(decoded.slice(0, colon));
      if (user && user.password === decoded.slice(colon + 1)) return user;
      // a token may be given as the basic-auth password (or user)
      return this.state.userOfToken(decoded.slice(colon + 1));
    }
    return undefined;
  }

  /** Sends an error in the provider's shape. */
  fail(reply: FastifyReply, status: number, message: string): FastifyReply {
    return reply.code(status).send(this.provider.errorBody(status, message));
  }

  /**
   * The authenticated user, or a 401 already sent (then undefined is returned and the
   * handler must return the reply).
   */
  requireUser(req: FastifyRequest, reply: FastifyReply): ForgeUser | undefined {
    const user = this.authUser(req);
    if (!user) this.fail(reply, 401, 'unauthorized');
    return user;
  }

  /** Finds a repo the caller may read (404 otherwise, as forges hide private repos). */
  readableRepo(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
  ): { repo: ForgeRepo; user: ForgeUser | undefined } | undefined {
    const user = this.authUser(req);
    const repo = this.state.repos.get(path);
    if (!repo || !this.state.canRead(repo, user?.login)) {
      this.fail(reply, 404, 'not found');
      return undefined;
    }
    return { repo, user };
  }

  /** Finds a repo the caller administers: 401 without a user, 404 if unreadable, 403 otherwise. */
  adminRepo(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
  ): { repo: ForgeRepo; user: ForgeUser } | undefined {
    const user = this.authUser(req);
    if (!user) {
      this.fail(reply, 401, 'unauthorized');
      return undefined;
    }
    const found = this.readableRepo(req, reply, path);
    if (!found) return undefined;
    if (this.state.access(found.repo, user.login) !== 'admin') {
      this.fail(reply, 403, 'forbidden');
      return undefined;
    }
    return { repo: found.repo, user };
  }

  /** Finds a repo the caller may push to. */
  writableRepo(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
  ): { repo: ForgeRepo; user: ForgeUser } | undefined {
    const user = this.authUser(req);
    if (!user) {
      this.fail(reply, 401, 'unauthorized');
      return undefined;
    }
    const found = this.readableRepo(req, reply, path);
    if (!found) return undefined;
    const access = this.state.access(found.repo, user.login);
    if (access !== 'admin' && access !== 'write') {
      this.fail(reply, 403, 'forbidden');
      return undefined;
    }
    return { repo: found.repo, user };
  }

  readCommit(repo: ForgeRepo, rev: string): Promise<GitCommit | undefined> {
    return readCommit(repo.dir, rev);
  }

  readFile(repo: ForgeRepo, rev: string, path: string): Promise<Buffer | undefined> {
    return readFileAt(repo.dir, rev, path);
  }

  refs(repo: ForgeRepo): Promise<Map<string, string>> {
    return listRefs(repo.dir);
  }

  addStatus(repo: ForgeRepo, status: Omit<ForgeStatus, 'id' | 'createdAt'>): ForgeStatus {
    const stored: ForgeStatus = {
      ...status,
      id: this.state.nextId(),
      createdAt: new Date().toISOString(),
    };
    repo.statuses.push(stored);
    return stored;
  }

  addKey(repo: ForgeRepo, title: string, key: string, readOnly: boolean): ForgeDeployKey {
    const stored: ForgeDeployKey = {
      id: this.state.nextId(),
      title,
      key,
      readOnly,
      createdAt: new Date().toISOString(),
    };
    repo.keys.push(stored);
    return stored;
  }

  addHook(repo: ForgeRepo, hook: Omit<ForgeHook, 'id' | 'createdAt'>): ForgeHook {
    const stored: ForgeHook = {
      ...hook,
      id: this.state.nextId(),
      createdAt: new Date().toISOString(),
    };
    repo.hooks.push(stored);
    return stored;
  }

  /** Delivers an event to every active hook of the repo subscribed to its kind. */
  fire(repo: ForgeRepo, event: HookEvent): void {
    for (const hook of repo.hooks) {
      if (!hook.active || !hook.events.includes(event.kind)) continue;
      this.track(this.deliver(hook, event));
    }
  }

  private async deliver(hook: ForgeHook, event: HookEvent): Promise<void> {
    const body = JSON.stringify(event.payload);
    const headers = {
      'content-type': 'application/json',
      ...this.provider.hookHeaders(hook, event, body),
    };
    let status = 0;
    const sentAt = Date.now();
    const started = performance.now();
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0;
    }
    this.deliveries.push({
      hookId: hook.id,
      url: hook.url,
      event: event.event,
      headers,
      body,
      status,
      sentAt,
      durationMs: performance.now() - started,
    });
  }

  /** Tracks work whose webhooks {@link settled} must wait for. */
  track(p: Promise<unknown>): void {
    const tracked = p.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Waits until every webhook delivery started so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Sends the push events of the refs a receive-pack changed. */
  async afterPush(
    repo: ForgeRepo,
    before: Map<string, string>,
    after: Map<string, string>,
    pusher: ForgeUser,
  ): Promise<void> {
    const zero = '0'.repeat(40);
    const changed = [...after].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [ref, sha] of changed) {
      const old = before.get(ref);
      if (old === sha) continue;
      if (!ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) continue;
      const headCommit = await readCommit(repo.dir, sha);
      const commits = ref.startsWith('refs/tags/')
        ? []
        : (await commitsBetween(repo.dir, old, sha)).reverse();
      const push: PushInfo = {
        repo,
        ref,
        before: old ?? zero,
        after: sha,
        commits,
        headCommit,
        pusher,
      };
      this.fire(repo, this.provider.pushEvent(this, push));
      // a push to the head branch of an open pull request updates it, as forges do
      if (ref.startsWith('refs/heads/')) {
        const branch = ref.slice('refs/heads/'.length);
        for (const pull of repo.pulls) {
          if (pull.head !== branch || pull.sha === sha) continue;
          pull.sha = sha;
          await git(['update-ref', this.pullRef(pull.number), sha], { cwd: repo.dir });
          this.fire(
            repo,
            this.provider.pullEvent(this, { repo, pull, action: 'synchronize', sender: pusher }),
          );
        }
      }
    }
  }
}

/**
 * A simulated Gitea, GitHub or GitLab: real bare repositories behind `git http-backend`,
 * only the REST endpoints Agola's git sources call, OAuth2 and webhooks signed as the
 * provider signs them. A test double for tests: see the testkit README.
 */
export interface Forge {
  readonly type: ForgeType;
  /** Base URL of the server (web pages, git over HTTP, OAuth2 for Gitea and GitHub). */
  readonly url: string;
  /**
   * The URL to configure as a remote source's API URL: the server URL for Gitea and GitLab,
   * `<url>/api/v3` for GitHub (GitHub Enterprise's layout).
   */
  readonly apiURL: string;
  /** Webhook deliveries made so far, oldest first. */
  readonly deliveries: readonly ForgeDelivery[];
  /** Creates a user with a password and a personal access token. */
  addUser(options: { login: string; password?: string; email?: string }): ForgeUserInfo;
  /** Creates a bare repository owned by `owner` (a user login). */
  createRepo(options: {
    owner: string;
    name: string;
    defaultBranch?: string;
    private?: boolean;
    /** Other users and their access. */
    members?: Record<string, ForgeAccess>;
  }): Promise<ForgeRepoInfo>;
  /** Registers an OAuth2 application. */
  addOAuth2App(options: { redirectURI: string }): { clientId: string; clientSecret: string };
  /** Makes a token stop working, as if it expired. */
  expireToken(token: string): void;
  /**
   * Commits files on a branch and pushes them over HTTP as `as` (default: the repo owner),
   * so the push goes through `git http-backend` and fires the push webhooks; resolves with the
   * new commit sha once the webhooks were delivered.
   */
  commit(options: {
    repo: string;
    files: Record<string, string>;
    message?: string;
    branch?: string;
    as?: string;
  }): Promise<string>;
  /** Pushes a lightweight tag at `rev` (default: the default branch) and delivers the webhooks. */
  tag(options: { repo: string; tag: string; rev?: string; as?: string }): Promise<string>;
  /**
   * Opens a pull request from `head` (a branch of the repo) to `base`, creating the provider's
   * pull request ref and delivering the pull request webhooks. `fromFork` makes the payload
   * say the head repo is another repository. A later push to `head` updates the pull request
   * and sends the provider's "synchronize" event.
   */
  openPullRequest(options: {
    repo: string;
    head: string;
    base?: string;
    title: string;
    fromFork?: boolean;
    as?: string;
  }): Promise<{ number: number; sha: string }>;
  /** Deploy keys of a repo. */
  deployKeys(repo: string): readonly ForgeDeployKey[];
  /** Webhooks of a repo. */
  hooks(repo: string): readonly ForgeHook[];
  /** Commit statuses of a repo (all commits), oldest first. */
  statuses(repo: string): readonly ForgeStatus[];
  /** Waits until every webhook delivery started so far has finished. */
  settled(): Promise<void>;
  /** Stops the server and deletes the repositories. */
  stop(): Promise<void>;
}

/**
 * Starts a forge simulator of the given type on a free loopback port.
 *
 * @example
 * ```ts
 * const forge = await startForge({ type: 'gitea' });
 * const alice = forge.addUser({ login: 'alice', password: 'secret' });
 * await forge.createRepo({ owner: 'alice', name: 'repo' });
 * const sha = await forge.commit({ repo: 'alice/repo', files: { 'README.md': 'hi' } });
 * await forge.stop();
 * ```
 */
export async function startForge(options: StartForgeOptions): Promise<Forge> {
  const provider = loadProvider(options.type);
  const root = await mkdtemp(join(tmpdir(), `agola-forge-${options.type}-`));
  const reposRoot = join(root, 'repos');
  await mkdir(reposRoot, { recursive: true });
  const core = new ForgeCore(options.type, provider, reposRoot, options.sshURLAsHTTP);

  const app = Fastify({
    logger: false,
    bodyLimit: 10 * 1024 * 1024,
    serverFactory: (handler) =>
      createServer((req, res) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        const m = /^\/([^?]+?\.git)(\/.*)$/.exec(path);
        if (m) {
          const fail = () => {
            if (!res.headersSent) res.statusCode = 400;
            res.end();
          };
          try {
            handleGit(
              core,
              req,
              res,
              decodeURIComponent(m[1] ?? ''),
              m[2] ?? '',
              q < 0 ? '' : url.slice(q + 1),
            ).catch(fail);
          } catch {
            // a malformed %-escape in the path
            fail();
          }
          return;
        }
        handler(req, res);
      }),
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  app.setNotFoundHandler((_req, reply) => core.fail(reply, 404, 'not found'));
  app.setErrorHandler((err: { statusCode?: unknown; message?: unknown }, _req, reply) => {
    const status =
      typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    return core.fail(reply, status, status === 500 ? 'internal error' : String(err.message));
  });
  provider.register(app, core);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as AddressInfo;
  core.url = `http://127.0.0.1:${address.port}`;

  const getRepo = (path: string): ForgeRepo => {
    const repo = core.state.repos.get(path);
    if (!repo) throw newError(`forge: no repo ${path}`, { code: TestkitErrorCodes.ForgeUsage });
    return repo;
  };
  const getUser = (login: string): ForgeUser => {
    const user = core.state.users.get(login);
    if (!user) throw newError(`forge: no user ${login}`, { code: TestkitErrorCodes.ForgeUsage });
    return user;
  };
  const authHeader = (user: ForgeUser): string =>
    `Authorization: Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`;

  const pushFromWorktree = async (
    repo: ForgeRepo,
    user: ForgeUser,
    work: string,
    refspec: string,
  ) => {
    await git(
      [
        '-c',
        `http.extraHeader=${authHeader(user)}`,
        'push',
        '--quiet',
        core.cloneURL(repo),
        refspec,
      ],
      {
        cwd: work,
      },
    );
    await core.settled();
  };

  const forge: Forge = {
    type: options.type,
    url: core.url,
    apiURL: options.type === 'github' ? core.apiURL : core.url,
    deliveries: core.deliveries,
    addUser({ login, password, email }) {
      if (core.state.users.has(login))
        throw newError(`forge: user ${login} exists`, { code: TestkitErrorCodes.ForgeUsage });
      const user: ForgeUser = {
        id: core.state.nextId(),
        login,
        password: password ?? core.state.randomToken(8),
        email: email ?? `${login}@example.test`,
      };
      core.state.users.set(login, user);
      const token = core.state.randomToken();
      core.state.tokens.set(token, {
        id: core.state.nextId(),
        name: 'simulator',
        value: token,
        login,
        scopes: ['all'],
      });
      return { id: user.id, login, password: user.password, email: user.email, token };
    },
    async createRepo({ owner, name, defaultBranch, private: isPrivate, members }) {
      getUser(owner);
      const path = `${owner}/${name}`;
      if (core.state.repos.has(path))
        throw newError(`forge: repo ${path} exists`, { code: TestkitErrorCodes.ForgeUsage });
      const repo: ForgeRepo = {
        id: core.state.nextId(),
        owner,
        name,
        path,
        dir: repoDir(reposRoot, path),
        defaultBranch: defaultBranch ?? 'main',
        private: isPrivate ?? false,
        members: new Map(Object.entries(members ?? {})),
        keys: [],
        hooks: [],
        statuses: [],
        pulls: [],
      };
      await initBare(repo.dir, repo.defaultBranch);
      core.state.repos.set(path, repo);
      return core.repoInfo(repo);
    },
    addOAuth2App({ redirectURI }) {
      const clientId = randomUUID();
      const clientSecret = core.state.randomToken();
      core.state.apps.set(clientId, { clientId, clientSecret, redirectURI });
      return { clientId, clientSecret };
    },
    expireToken(token) {
      const t = core.state.tokens.get(token);
      if (t) t.expiresAt = 0;
    },
    async commit({ repo: path, files, message, branch, as }) {
      const repo = getRepo(path);
      const user = getUser(as ?? repo.owner);
      const target = branch ?? repo.defaultBranch;
      const work = await mkdtemp(join(root, 'work-'));
      try {
        const refs = await listRefs(repo.dir);
        await git(['init', '--quiet', `--initial-branch=${target}`, work]);
        if (refs.has(`refs/heads/${target}`)) {
          await git(['fetch', '--quiet', core.cloneURL(repo), `refs/heads/${target}`], {
            cwd: work,
          });
          await git(['reset', '--quiet', '--hard', 'FETCH_HEAD'], { cwd: work });
        } else if (refs.has(`refs/heads/${repo.defaultBranch}`)) {
          await git(['fetch', '--quiet', core.cloneURL(repo), `refs/heads/${repo.defaultBranch}`], {
            cwd: work,
          });
          await git(['reset', '--quiet', '--hard', 'FETCH_HEAD'], { cwd: work });
        }
        for (const [file, content] of Object.entries(files)) {
          const dest = join(work, file);
          if (!dest.startsWith(work + '/'))
            throw newError(`forge: bad file path ${file}`, { code: TestkitErrorCodes.ForgeUsage });
          await mkdir(dirname(dest), { recursive: true });
          await writeFile(dest, content);
        }
        await git(['add', '-A'], { cwd: work });
        await git(['commit', '--quiet', '--allow-empty', '-m', message ?? 'update files'], {
          cwd: work,
          env: {
            GIT_AUTHOR_NAME: user.login,
            GIT_AUTHOR_EMAIL: user.email,
            GIT_COMMITTER_NAME: user.login,
            GIT_COMMITTER_EMAIL: user.email,
          },
        });
        const sha = await git(['rev-parse', 'HEAD'], { cwd: work });
        await pushFromWorktree(repo, user, work, `HEAD:refs/heads/${target}`);
        return sha;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    async tag({ repo: path, tag, rev, as }) {
      const repo = getRepo(path);
      const user = getUser(as ?? repo.owner);
      const commit = await readCommit(repo.dir, rev ?? `refs/heads/${repo.defaultBranch}`);
      if (!commit)
        throw newError(`forge: no revision ${rev ?? repo.defaultBranch}`, {
          code: TestkitErrorCodes.ForgeUsage,
        });
      const work = await mkdtemp(join(root, 'work-'));
      try {
        await git(['init', '--quiet', work]);
        await git(['fetch', '--quiet', core.cloneURL(repo), commit.sha], { cwd: work });
        await pushFromWorktree(repo, user, work, `${commit.sha}:refs/tags/${tag}`);
        return commit.sha;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    async openPullRequest({ repo: path, head, base, title, fromFork, as }) {
      const repo = getRepo(path);
      const user = getUser(as ?? repo.owner);
      const commit = await readCommit(repo.dir, `refs/heads/${head}`);
      if (!commit)
        throw newError(`forge: no branch ${head}`, { code: TestkitErrorCodes.ForgeUsage });
      const number = repo.pulls.length + 1;
      const pull: ForgePull = {
        id: core.state.nextId(),
        number,
        title,
        head,
        base: base ?? repo.defaultBranch,
        sha: commit.sha,
        fromFork: fromFork ?? false,
      };
      repo.pulls.push(pull);
      await git(['update-ref', core.pullRef(number), commit.sha], { cwd: repo.dir });
      core.fire(repo, provider.pullEvent(core, { repo, pull, action: 'opened', sender: user }));
      await core.settled();
      return { number, sha: commit.sha };
    },
    deployKeys: (repo) => getRepo(repo).keys,
    hooks: (repo) => getRepo(repo).hooks,
    statuses: (repo) => getRepo(repo).statuses,
    settled: () => core.settled(),
    async stop() {
      await core.settled();
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  return forge;
}

async function handleGit(
  core: ForgeCore,
  req: IncomingMessage,
  res: ServerResponse,
  repoPath: string,
  rest: string,
  query: string,
): Promise<void> {
  const path = repoPath.slice(0, -'.git'.length);
  const repo = core.state.repos.get(path);
  const user = core.authUser(req);
  if (!repo || !core.state.canRead(repo, user?.login) || path.split('/').includes('..')) {
    res.statusCode = 404;
    res.end('repository not found\n');
    return;
  }
  // Agola's gitserver file route, so the agolagit source can be tested on real git too.
  const raw = /^\/raw\/([^/]+)\/(.+)$/.exec(rest);
  if (raw && req.method === 'GET') {
    // decodeURIComponent throws on a malformed escape: the caller answers 400
    const data = await readFileAt(
      repo.dir,
      decodeURIComponent(raw[1] ?? ''),
      decodeURIComponent(raw[2] ?? ''),
    );
    if (!data) {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 'ERR_NOT_EXIST', message: 'file not found' }));
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.end(data);
    return;
  }
  const isPush = rest === '/git-receive-pack' || query.includes('service=git-receive-pack');
  if (isPush) {
    const access = core.state.access(repo, user?.login);
    if (!user || (access !== 'admin' && access !== 'write')) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Basic realm="forge"');
      res.end('authentication required\n');
      return;
    }
  }
  if (rest === '/git-receive-pack' && req.method === 'POST' && user) {
    const work = (async () => {
      const before = await listRefs(repo.dir);
      await serveGitHttp(req, res, core.root, `/${repoPath}${rest}`, query);
      const after = await listRefs(repo.dir);
      await core.afterPush(repo, before, after, user);
    })();
    core.track(work);
    await work;
    return;
  }
  await serveGitHttp(req, res, core.root, `/${repoPath}${rest}`, query);
}

function loadProvider(type: ForgeType): ForgeProvider {
  switch (type) {
    case 'gitea':
      return giteaProvider;
    case 'github':
      return githubProvider;
    case 'gitlab':
      return gitlabProvider;
    default: {
      const never: never = type;
      throw newError(`forge: unknown type ${String(never)}`, {
        code: TestkitErrorCodes.ForgeUsage,
      });
    }
  }
}

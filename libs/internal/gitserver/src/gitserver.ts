import { mkdir, realpath } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { badRequest, notExist, wrap } from '@agola-ts/errors';
import {
  createServiceHealth,
  createServiceServer,
  errorResponse,
  HEALTH_PATH,
  listenWithRetry,
  sendHealth,
  type ServiceHealth,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import { cleanRepos, type CleanResult } from './cleaner.js';
import { GitserverErrorCodes } from './codes.js';
import {
  DEFAULT_REPOSITORY_CLEANUP_INTERVAL_MS,
  DEFAULT_REPOSITORY_REFS_EXPIRE_INTERVAL_MS,
  type GitserverConfig,
} from './config.js';
import { runGit } from './git-command.js';
import { serveHttpBackend } from './http-backend.js';
import { checkRawArgs, serveRawFile } from './raw-file.js';
import { GIT_SUFFIX, resolveRepoPath } from './repo-path.js';

/** How long a stop waits for the requests being answered before closing their connections. */
const STOP_GRACE_MS = 3000;

/** What the git server is given besides its config. */
export interface GitserverDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
}

/** A git server, created stopped. */
export interface Gitserver {
  /** Creates the data dir, listens and starts the repository cleaner's timer. */
  start(): Promise<void>;
  /** Stops the cleaner and the server (open connections are closed after a grace period). */
  stop(): Promise<void>;
  /** Runs one cleaner pass now (tests, tools); `now` overrides the clock. */
  cleanNow(options?: { now?: number }): Promise<CleanResult>;
  /** The port it listens on (once started). */
  readonly port: number | undefined;
  /** Its base URL (`http://host:port`, once started). */
  readonly url: string | undefined;
  /** The fastify instance (once started). */
  readonly app: FastifyInstance | undefined;
  /** The service's health, as `GET /health` reports it. */
  readonly health: ServiceHealth;
}

const SERVICE_SUFFIX = {
  'info-refs': '/info/refs',
  'upload-pack': '/git-upload-pack',
  'receive-pack': '/git-receive-pack',
} as const;

/** A parsed git server request. */
export type GitRequest =
  | { kind: 'info-refs'; repoPath: string }
  | { kind: 'upload-pack'; repoPath: string }
  | { kind: 'receive-pack'; repoPath: string }
  | { kind: 'raw'; repoPath: string; ref: string; path: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('the URL is not valid', { code: GitserverErrorCodes.BadRequest });
  }
}

function joinRepo(segments: string[]): string {
  return segments.map(decode).join('/');
}

/**
 * Parses the path (as sent, percent-encoded, without the query) of a git server request:
 * `/<repo>.git/info/refs`, `/<repo>.git/git-upload-pack`, `/<repo>.git/git-receive-pack`, or
 * `/<repo>.git/raw/<ref>/<file path>` (the ref is one segment: a ref with slashes is sent
 * percent-encoded). `undefined` for any other path.
 */
export function parseGitRequestPath(rawPath: string): GitRequest | undefined {
  if (!rawPath.startsWith('/')) return undefined;
  const segs = rawPath.slice(1).split('/');
  const last = segs.at(-1);
  if (segs.length >= 2 && (last === 'git-upload-pack' || last === 'git-receive-pack')) {
    const repoPath = joinRepo(segs.slice(0, -1));
    if (repoPath.endsWith(GIT_SUFFIX)) {
      return { kind: last === 'git-upload-pack' ? 'upload-pack' : 'receive-pack', repoPath };
    }
  }
  if (segs.length >= 3 && last === 'refs' && segs.at(-2) === 'info') {
    const repoPath = joinRepo(segs.slice(0, -2));
    if (repoPath.endsWith(GIT_SUFFIX)) return { kind: 'info-refs', repoPath };
  }
  for (let i = 0; i + 3 < segs.length; i++) {
    if (segs[i + 1] === 'raw' && decode(segs[i] ?? '').endsWith(GIT_SUFFIX)) {
      return {
        kind: 'raw',
        repoPath: joinRepo(segs.slice(0, i + 1)),
        ref: decode(segs[i + 2] ?? ''),
        path: joinRepo(segs.slice(i + 3)),
      };
    }
  }
  return undefined;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Creates the git server (Agola's gitserver, reference §11): git smart HTTP through the real
 * `git http-backend` over the bare repositories of `dataDir`, a push creating its repository
 * (`git init --bare`), `GET /<repo>.git/raw/<ref>/<path>` for the agolagit source, invalid
 * repository paths refused with 400, `GET /health`, and the cleaner of expired branches and
 * tags every `repositoryCleanupIntervalMs`. It has no authentication of its own: it listens
 * where only the gateway reaches it, and the gateway checks who pushes and fetches.
 *
 * @example
 * ```ts
 * const gs = createGitserver(
 *   { dataDir: '/var/lib/agola/gitserver', web: { listen: { host: '127.0.0.1', port: 4003 } } },
 *   { logger },
 * );
 * await gs.start();
 * // git push http://127.0.0.1:4003/<userID>/<uuid>.git HEAD:refs/heads/main
 * await gs.stop();
 * ```
 */
export function createGitserver(config: GitserverConfig, deps: GitserverDeps = {}): Gitserver {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const health = createServiceHealth();
  const cleanupMs = config.repositoryCleanupIntervalMs ?? DEFAULT_REPOSITORY_CLEANUP_INTERVAL_MS;
  const expireMs =
    config.repositoryRefsExpireIntervalMs ?? DEFAULT_REPOSITORY_REFS_EXPIRE_INTERVAL_MS;
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping: AbortController | undefined;
  let cleaning: Promise<CleanResult> | undefined;
  let root = config.dataDir;

  const clean = (now?: number): Promise<CleanResult> => {
    // one pass at a time: a second caller shares the running one
    cleaning ??= cleanRepos(root, expireMs, logger, {
      ...(stopping ? { signal: stopping.signal } : {}),
      ...(now !== undefined ? { now } : {}),
    }).finally(() => {
      cleaning = undefined;
    });
    return cleaning;
  };

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const parsed = parseGitRequestPath(rawPath);
    const method = req.method;
    if (
      !parsed ||
      (parsed.kind === 'raw' && method !== 'GET' && method !== 'HEAD') ||
      (parsed.kind === 'info-refs' && method !== 'GET' && method !== 'HEAD') ||
      ((parsed.kind === 'upload-pack' || parsed.kind === 'receive-pack') && method !== 'POST')
    ) {
      throw notExist(`no route for ${method} ${rawPath.slice(0, 200)}`, {
        code: GitserverErrorCodes.BadRequest,
      });
    }
    const repo = await resolveRepoPath(root, parsed.repoPath);
    if (parsed.kind === 'raw') {
      if (!repo.exists) {
        throw notExist('repository not found', { code: GitserverErrorCodes.NotExist });
      }
      checkRawArgs(parsed.ref, parsed.path);
      reply.hijack();
      try {
        await serveRawFile(repo.dir, parsed.ref, parsed.path, reply.raw, logger);
      } catch (err) {
        const res = reply.raw;
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const { status, body } = errorResponse(err, req);
        if (status >= 500) logger.error({ err }, 'raw file read failed');
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      }
      return;
    }
    let service: 'git-upload-pack' | 'git-receive-pack';
    if (parsed.kind === 'info-refs') {
      const s = new URLSearchParams(query).get('service');
      if (s !== 'git-upload-pack' && s !== 'git-receive-pack') {
        throw badRequest(
          'the service query parameter must be git-upload-pack or git-receive-pack',
          {
            code: GitserverErrorCodes.BadRequest,
          },
        );
      }
      service = s;
    } else service = parsed.kind === 'upload-pack' ? 'git-upload-pack' : 'git-receive-pack';
    if (!repo.exists) {
      if (service !== 'git-receive-pack') {
        throw notExist('repository not found', { code: GitserverErrorCodes.NotExist });
      }
      // a push creates its repository
      try {
        await runGit(['init', '--quiet', '--bare', repo.dir]);
        await runGit(['--git-dir', repo.dir, 'config', 'http.receivepack', 'true']);
      } catch (err) {
        throw wrap(err, 'creating the repository', { code: GitserverErrorCodes.Git });
      }
      logger.info({ repo: parsed.repoPath }, 'repository created');
    }
    reply.hijack();
    await serveHttpBackend({
      req: req.raw,
      res: reply.raw,
      projectRoot: root,
      pathInfo: `/${repo.dir.slice(root.length + 1)}${SERVICE_SUFFIX[parsed.kind]}`,
      query,
      logger,
    });
  };

  const start = async () => {
    if (app) return;
    try {
      await mkdir(config.dataDir, { recursive: true });
      root = await realpath(config.dataDir);
    } catch (err) {
      throw wrap(err, `creating the data dir ${config.dataDir}`, {
        code: GitserverErrorCodes.InvalidConfig,
      });
    }
    stopping = new AbortController();
    const build = async () => {
      const server = createServiceServer({ logger, name: 'gitserver' });
      server.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, health.snapshot()));
      await server.register(async (git) => {
        // the bodies are git's: streamed to git http-backend, never parsed
        git.removeAllContentTypeParsers();
        git.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
        git.route({ method: ['GET', 'HEAD', 'POST'], url: '/*', handler: handle });
      });
      return server;
    };
    const listening = await listenWithRetry(build, config.web.listen, {
      signal: stopping.signal,
    });
    app = listening.app;
    port = listening.port;
    health.mode = 'normal';
    timer = setInterval(() => {
      void clean().catch((err: unknown) => logger.error({ err }, 'repository cleaner failed'));
    }, cleanupMs);
    timer.unref();
    logger.info({ port, dataDir: root }, 'gitserver listening');
  };

  return {
    start,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      stopping?.abort();
      const a = app;
      app = undefined;
      port = undefined;
      if (a) {
        const t = setTimeout(() => a.server.closeAllConnections(), STOP_GRACE_MS);
        try {
          await a.close();
        } finally {
          clearTimeout(t);
        }
      }
      await cleaning?.catch(() => undefined);
    },
    cleanNow: (options = {}) => clean(options.now),
    get port() {
      return port;
    },
    get url() {
      return port === undefined
        ? undefined
        : `http://${hostForUrl(config.web.listen.host)}:${port}`;
    },
    get app() {
      return app;
    },
    health,
  };
}

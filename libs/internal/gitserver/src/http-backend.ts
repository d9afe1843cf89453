import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceLogger } from '@agola-ts/service-kit';
import { gitEnv } from './git-command.js';

/** Largest CGI header block accepted from `git http-backend`. */
const MAX_CGI_HEADER = 64 * 1024;

/** Response headers a CGI script may not set (the server manages them). */
const SKIPPED_HEADERS = new Set(['status', 'connection', 'transfer-encoding', 'keep-alive']);

/** What {@link serveHttpBackend} needs for one request. */
export interface HttpBackendRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The data dir (`GIT_PROJECT_ROOT`). */
  projectRoot: string;
  /** `/<repo path>/<info/refs|git-upload-pack|git-receive-pack>`, decoded. */
  pathInfo: string;
  /** The raw query string (`service=git-upload-pack`), without `?`. */
  query: string;
  logger: ServiceLogger;
}

function headerEnd(buf: Buffer): { end: number; sep: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { end: crlf, sep: 4 };
  if (lf >= 0) return { end: lf, sep: 2 };
  return undefined;
}

/**
 * Serves one git smart-HTTP request through the real `git http-backend` (CGI): the request
 * body is streamed into it as it comes (a gzip `Content-Encoding` is passed on: http-backend
 * inflates it), its CGI headers are parsed (`Status:` sets the status) and the rest of its
 * output is streamed out. A client that goes away kills the backend. Pushes are enabled
 * (`http.receivepack`) for every repository.
 */
export function serveHttpBackend(r: HttpBackendRequest): Promise<void> {
  const { req, res, logger } = r;
  return new Promise((resolve) => {
    const env = gitEnv({
      GIT_PROJECT_ROOT: r.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: r.pathInfo,
      QUERY_STRING: r.query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      SERVER_PROTOCOL: 'HTTP/1.1',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'true',
    });
    const encoding = req.headers['content-encoding'];
    if (typeof encoding === 'string' && encoding !== '') env['HTTP_CONTENT_ENCODING'] = encoding;
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;
    const len = req.headers['content-length'];
    if (typeof len === 'string' && len !== '') env['CONTENT_LENGTH'] = len;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    // the client went away before the answer ended: nobody reads the rest
    res.on('close', () => {
      if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    req.on('error', () => child.kill('SIGKILL'));

    let head: Buffer | undefined = Buffer.alloc(0);
    const stderr: Buffer[] = [];
    let stderrLen = 0;
    child.stderr.on('data', (c: Buffer) => {
      if (stderrLen < 8192) stderr.push(c);
      stderrLen += c.length;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (head === undefined) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const found = headerEnd(head);
      if (!found) {
        if (head.length > MAX_CGI_HEADER) {
          logger.error({ pathInfo: r.pathInfo }, 'git http-backend sent a too large header');
          child.kill('SIGKILL');
        }
        return;
      }
      let status = 200;
      for (const line of head.subarray(0, found.end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        const lower = name.toLowerCase();
        if (lower === 'status') {
          const n = Number.parseInt(value, 10);
          if (n >= 100 && n <= 599) status = n;
        } else if (!SKIPPED_HEADERS.has(lower)) {
          res.setHeader(name, value);
        }
      }
      res.statusCode = status;
      const rest = head.subarray(found.end + found.sep);
      head = undefined;
      if (rest.length > 0) res.write(rest);
    });
    child.on('error', (err) => {
      logger.error({ err }, 'git http-backend could not run');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ code: 'ERR_GITSERVER_GIT', message: 'internal server error' }));
      } else res.destroy();
      finish();
    });
    child.on('close', (code) => {
      if (code !== 0) {
        logger.warn(
          {
            pathInfo: r.pathInfo,
            exitCode: code,
            stderr: Buffer.concat(stderr).toString('utf8').slice(0, 2000),
          },
          'git http-backend failed',
        );
      }
      if (head !== undefined) {
        // no complete header: nothing valid was sent
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end(JSON.stringify({ code: 'ERR_GITSERVER_GIT', message: 'internal server error' }));
        } else res.destroy();
      } else if (code !== 0 && !res.writableEnded) {
        // a truncated answer must not look complete to the client
        res.destroy();
      } else {
        res.end();
      }
      finish();
    });
  });
}

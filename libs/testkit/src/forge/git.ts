import { execFile, spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { wrap } from '@agola-ts/errors';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Forge Simulator',
  GIT_AUTHOR_EMAIL: 'forge@example.test',
  GIT_COMMITTER_NAME: 'Forge Simulator',
  GIT_COMMITTER_EMAIL: 'forge@example.test',
};

/** Runs git and returns its stdout (trimmed of the final newline). */
export async function git(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...GIT_ENV, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'buffer',
      },
      (err, stdout, stderr) => {
        if (err) {
          reject(wrap(err, `git ${args[0] ?? ''}: ${stderr.toString('utf8').trim()}`));
          return;
        }
        resolve(stdout.toString('utf8').replace(/\n$/, ''));
      },
    );
  });
}

/** Runs git and returns its raw stdout bytes. */
export async function gitBytes(args: string[], cwd: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env: { ...process.env, ...GIT_ENV }, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' },
      (err, stdout, stderr) => {
        if (err) reject(wrap(err, `git ${args[0] ?? ''}: ${stderr.toString('utf8').trim()}`));
        else resolve(stdout);
      },
    );
  });
}

/** Creates a bare repository (receive-pack enabled for anonymous pushes). */
export async function initBare(dir: string, defaultBranch: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await git(['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`, dir]);
  await git(['config', 'http.receivepack', 'true'], { cwd: dir });
}

/** Every ref of a bare repo: refname -> object id. */
export async function listRefs(dir: string): Promise<Map<string, string>> {
  const out = await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir });
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) refs.set(line.slice(i + 1), line.slice(0, i));
  }
  return refs;
}

/** A commit as the forge APIs show it. */
export interface GitCommit {
  sha: string;
  message: string;
  authorName: string;
  authorEmail: string;
  timestamp: string;
  parents: string[];
  tree: string;
}

const SEP = '\u001f';

/** Reads one commit (a sha, a ref or a tag, peeled to its commit); undefined if absent. */
export async function readCommit(dir: string, rev: string): Promise<GitCommit | undefined> {
  if (rev.startsWith('-')) return undefined;
  let out: string;
  try {
    out = await git(
      [
        'log',
        '-1',
        `--format=%H${SEP}%an${SEP}%ae${SEP}%aI${SEP}%P${SEP}%T${SEP}%B`,
        `${rev}^{commit}`,
        '--',
      ],
      { cwd: dir },
    );
  } catch {
    return undefined;
  }
  const [sha, authorName, authorEmail, timestamp, parents, tree, ...rest] = out.split(SEP);
  if (!sha) return undefined;
  return {
    sha,
    authorName: authorName ?? '',
    authorEmail: authorEmail ?? '',
    timestamp: timestamp ?? '',
    parents: (parents ?? '').split(' ').filter(Boolean),
    tree: tree ?? '',
    message: trimNewlines(rest.join(SEP)),
  };
}

/** The commits reachable from `to` and not from `from` (newest first, at most 20). */
export async function commitsBetween(
  dir: string,
  from: string | undefined,
  to: string,
): Promise<GitCommit[]> {
  const range = from ? [to, `^${from}`] : [to];
  const shas = (await git(['rev-list', '--max-count=20', ...range, '--'], { cwd: dir }))
    .split('\n')
    .filter(Boolean);
  const commits: GitCommit[] = [];
  for (const sha of shas) {
    const c = await readCommit(dir, sha);
    if (c) commits.push(c);
  }
  return commits;
}

/** A file's bytes at a revision; undefined when the revision or the path does not exist. */
export async function readFileAt(
  dir: string,
  rev: string,
  path: string,
): Promise<Buffer | undefined> {
  if (rev.startsWith('-') || path.split('/').includes('..')) return undefined;
  try {
    return await gitBytes(['cat-file', 'blob', `${rev}:${path}`], dir);
  } catch {
    return undefined;
  }
}

/**
 * Serves a git smart-HTTP request through the real `git http-backend` (CGI): `pathInfo` is
 * `/<repo path>.git/<service path>` under `projectRoot`.
 */
export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  projectRoot: string,
  pathInfo: string,
  query: string,
): Promise<void> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: 'forge',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    };
    const encoding = req.headers['content-encoding'];
    if (encoding) env['HTTP_CONTENT_ENCODING'] = encoding;
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;
    const len = req.headers['content-length'];
    if (len) env['CONTENT_LENGTH'] = len;
    const child = spawn('git', ['http-backend'], { env });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      res.write(head.subarray(end + sepLen));
    });
    child.stderr.resume();
    child.on('close', () => {
      if (!headersDone) {
        res.statusCode = 500;
      }
      res.end();
      resolve();
    });
    child.on('error', () => {
      res.statusCode = 500;
      res.end();
      resolve();
    });
  });
}

/** Joins a repo path under the repos root. */
export function repoDir(root: string, path: string): string {
  return join(root, `${path}.git`);
}

/** `text` without trailing newlines (a loop: `/\n+$/` is quadratic on many newlines). */
function trimNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '\n') end--;
  return text.slice(0, end);
}

import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { badRequest, notExist } from '@agola-ts/errors';
import type { ServiceLogger } from '@agola-ts/service-kit';
import { GitserverErrorCodes } from './codes.js';
import { gitEnv } from './git-command.js';

/** Longest ref or file path of a raw file request, in characters. */
export const MAX_RAW_ARG_LENGTH = 1024;

const invalid = (message: string) =>
  badRequest(message, { code: GitserverErrorCodes.InvalidRef, callerOf: invalid });

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Checks a ref and a file path before they become one `git show <ref>:<path>` argument: the
 * ref may not start with `-` (an option) or `:`, nor hold `:` (it would move the split);
 * the path may not be empty or hold `.`/`..` segments (git resolves `./` and `../` against the
 * working dir); neither holds control characters.
 *
 * @throws `ApiError` 400 `ERR_GITSERVER_INVALID_REF`.
 */
export function checkRawArgs(ref: string, path: string): void {
  if (ref === '' || ref.length > MAX_RAW_ARG_LENGTH) throw invalid('invalid ref');
  if (ref.startsWith('-')) throw invalid('a ref cannot start with "-"');
  if (ref.includes(':')) throw invalid('a ref cannot contain ":"');
  if (CONTROL_CHARS.test(ref)) throw invalid('a ref cannot contain control characters');
  if (path === '' || path.length > MAX_RAW_ARG_LENGTH) throw invalid('invalid file path');
  if (CONTROL_CHARS.test(path)) throw invalid('a file path cannot contain control characters');
  if (path.split('/').some((p) => p === '.' || p === '..' || p === '')) {
    throw invalid('a file path cannot contain empty, "." or ".." segments');
  }
}

/**
 * Streams the file at `ref:path` of the bare repository `gitDir` (`git show`, no shell, the
 * arguments after `--end-of-options`). A ref or path that git cannot resolve is a 404; the
 * answer starts only once git produced its first bytes (or ended well), so a failure is
 * always a proper JSON error.
 *
 * @throws `ApiError` 400 `ERR_GITSERVER_INVALID_REF`, 404 `ERR_GITSERVER_NOT_EXIST`.
 */
export async function serveRawFile(
  gitDir: string,
  ref: string,
  path: string,
  res: ServerResponse,
  logger: ServiceLogger,
): Promise<void> {
  checkRawArgs(ref, path);
  const child = spawn(
    'git',
    ['--git-dir', gitDir, 'show', '--no-textconv', '--end-of-options', `${ref}:${path}`],
    { env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  res.on('close', () => {
    if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 16) stderr.push(c);
  });
  const first = await new Promise<Buffer | number | Error>((resolve) => {
    const onData = (c: Buffer) => {
      child.stdout.pause();
      cleanup();
      resolve(c);
    };
    const onClose = (code: number | null) => {
      cleanup();
      resolve(code ?? -1);
    };
    const onError = (err: Error) => {
      cleanup();
      resolve(err);
    };
    const cleanup = () => {
      child.stdout.off('data', onData);
      child.off('close', onClose);
      child.off('error', onError);
    };
    child.stdout.on('data', onData);
    child.on('close', onClose);
    child.on('error', onError);
  });
  if (first instanceof Error) throw first;
  if (typeof first === 'number') {
    if (first !== 0) {
      logger.debug(
        { exitCode: first, stderr: Buffer.concat(stderr).toString('utf8').slice(0, 500) },
        'git show failed',
      );
      throw notExist(`file ${JSON.stringify(path)} at ref ${JSON.stringify(ref)} not found`, {
        code: GitserverErrorCodes.NotExist,
      });
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.write(first);
  await new Promise<void>((resolve) => {
    child.stdout.pipe(res, { end: false });
    child.on('close', (code) => {
      if (code === 0) res.end();
      else res.destroy();
      resolve();
    });
  });
}

import { spawn } from 'node:child_process';
import { newError, wrap } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';
import type { ConfigContext } from '../ref.js';
import { MAX_CONFIG_SIZE } from './format.js';

/** Evaluates a jsonnet program with `ctx` as top-level argument and returns the JSON text. */
export type JsonnetEvaluator = (
  source: string,
  ctx: ConfigContext,
  options: { file: string; signal?: AbortSignal },
) => Promise<string>;

/** Options of {@link createJsonnetExecutableEvaluator}. */
export interface JsonnetExecutableOptions {
  /**
   * The jsonnet command line interpreter (C++ `jsonnet` from Debian's `jsonnet` package, or
   * go-jsonnet's `jsonnet`; both take the same flags).
   * @default 'jsonnet'
   */
  executable?: string;
  /**
   * Kill the interpreter after this many milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
}

/**
 * A {@link JsonnetEvaluator} that runs the `jsonnet` executable: the program on stdin,
 * `--tla-code ctx=<json>`, the output read from stdout (at most 1 MiB).
 *
 * @throws AgolaError `ERR_RUNCONFIG_JSONNET_UNAVAILABLE` when the executable cannot be started,
 * `ERR_RUNCONFIG_JSONNET` when evaluation fails, `ERR_RUNCONFIG_TOO_LARGE` on too much output.
 */
export function createJsonnetExecutableEvaluator(
  options: JsonnetExecutableOptions = {},
): JsonnetEvaluator {
  const executable = options.executable ?? 'jsonnet';
  const timeoutMs = options.timeoutMs ?? 30_000;
  return (source, ctx, { file, signal }) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(executable, ['--tla-code', `ctx=${JSON.stringify(ctx)}`, '-'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
      });
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_CONFIG_SIZE) {
          tooLarge = true;
          child.kill('SIGKILL');
          return;
        }
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (errOut.reduce((n, b) => n + b.length, 0) < 64 * 1024) errOut.push(chunk);
      });
      child.stdin.on('error', () => {
        // The interpreter may exit before reading everything (a syntax error); its exit code tells.
      });
      child.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            wrap(
              err,
              `jsonnet interpreter ${JSON.stringify(executable)} not found (install the jsonnet package)`,
              {
                code: RunconfigErrorCodes.JsonnetUnavailable,
              },
            ),
          );
        } else {
          reject(
            wrap(err, `evaluating ${file} with jsonnet`, { code: RunconfigErrorCodes.Jsonnet }),
          );
        }
      });
      child.on('close', (code, sig) => {
        if (tooLarge) {
          reject(
            newError(`${file}: generated config is larger than ${MAX_CONFIG_SIZE} bytes`, {
              code: RunconfigErrorCodes.TooLarge,
            }),
          );
        } else if (code === 0) {
          resolve(Buffer.concat(out).toString('utf8'));
        } else {
          const detail =
            Buffer.concat(errOut)
              .toString('utf8')
              .replaceAll('<stdin>', file)
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l !== '')
              .join(' ') || `exit ${code ?? sig}`;
          reject(
            newError(
              `failed to evaluate jsonnet config ${file}: ${detail.replace(/^STATIC ERROR: |^RUNTIME ERROR: /, '')}`,
              {
                code: RunconfigErrorCodes.Jsonnet,
              },
            ),
          );
        }
      });
      child.stdin.end(source);
    });
}

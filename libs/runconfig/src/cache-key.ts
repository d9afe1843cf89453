import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { newError, wrap } from '@agola-ts/errors';
import { RunconfigErrorCodes } from './codes.js';

/** Largest file `md5sum`/`sha256sum` read, and largest rendered key, in bytes. */
export const MAX_CACHE_KEY_SIZE = 1024 * 1024;

/** What a cache key template can see. Every field has a default taken from the current process. */
export interface CacheKeyOptions {
  /** Directory relative file names are read from. @default process.cwd() */
  cwd?: string;
  /**
   * Reads a file for `md5sum`/`sha256sum` (an executor reads inside the task's container).
   * @default reads from the local filesystem, refusing files larger than 1 MiB
   */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** Environment for `env "NAME"`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Value of `os`, Go style (`linux`). @default the current platform */
  os?: string;
  /** Value of `arch`, Go style (`amd64`, `arm64`). @default the current architecture */
  arch?: string;
  /** Clock for `year`, `month`, `day` (local time) and `unixtime`. @default () => new Date() */
  now?: () => Date;
}

type Token =
  { kind: 'string'; value: string } | { kind: 'ident'; value: string } | { kind: 'pipe' };

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64' };
const GO_OS: Record<string, string> = { win32: 'windows' };

function fail(message: string, cause?: unknown): never {
  if (cause !== undefined) throw wrap(cause, message, { code: RunconfigErrorCodes.CacheKey });
  throw newError(message, { code: RunconfigErrorCodes.CacheKey });
}

function tokenize(action: string, template: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const c = action[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < action.length && action[j] !== '"') j += action[j] === '\\' ? 2 : 1;
      if (j >= action.length)
        fail(`cache key template ${JSON.stringify(template)}: unterminated string`);
      try {
        tokens.push({ kind: 'string', value: JSON.parse(action.slice(i, j + 1)) as string });
      } catch (err) {
        fail(
          `cache key template ${JSON.stringify(template)}: bad string ${action.slice(i, j + 1)}`,
          err,
        );
      }
      i = j + 1;
    } else if (c === '`') {
      const j = action.indexOf('`', i + 1);
      if (j < 0) fail(`cache key template ${JSON.stringify(template)}: unterminated raw string`);
      tokens.push({ kind: 'string', value: action.slice(i + 1, j) });
      i = j + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(action.slice(i));
      if (!m)
        fail(`cache key template ${JSON.stringify(template)}: unexpected ${JSON.stringify(c)}`);
      tokens.push({ kind: 'ident', value: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** A parsed template: literal text and actions (pipelines of commands). */
type Part = { text: string } | { pipeline: Token[][] };

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      parts.push({ text });
      break;
    }
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) fail(`cache key template ${JSON.stringify(template)}: unclosed action`);
    let action = rest.slice(open + 2, close);
    if (/^-\s/.test(action)) {
      text = text.trimEnd();
      action = action.slice(1);
    }
    if (/\s-$/.test(action)) {
      trimNext = true;
      action = action.slice(0, -1);
    }
    parts.push({ text });
    rest = rest.slice(close + 2);
    const trimmed = action.trim();
    if (trimmed.startsWith('/*') && trimmed.endsWith('*/')) continue;
    const pipeline: Token[][] = [[]];
    for (const token of tokenize(action, template)) {
      if (token.kind === 'pipe') pipeline.push([]);
      else (pipeline[pipeline.length - 1] as Token[]).push(token);
    }
    if (pipeline.some((cmd) => cmd.length === 0))
      fail(`cache key template ${JSON.stringify(template)}: empty command`);
    parts.push({ pipeline });
  }
  return parts;
}

async function defaultReadFile(path: string): Promise<Uint8Array> {
  const info = await stat(path);
  if (info.size > MAX_CACHE_KEY_SIZE) fail(`file ${JSON.stringify(path)} is too big`);
  return readFile(path);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Renders a cache key template as Agola's executor does (Go text/template syntax with the
 * functions `md5sum "file"`, `sha256sum "file"` (files up to 1 MiB), `env "NAME"`, `os`,
 * `arch`, `year`, `month`, `day` (local time, zero-padded) and `unixtime` (nanoseconds)).
 * Pipelines (`{{ "go.sum" | md5sum }}`), trim markers (`{{- -}}`) and comments work.
 *
 * @throws AgolaError `ERR_RUNCONFIG_CACHE_KEY` for a bad template, an unknown function, an
 * unreadable or too large file, or a key longer than 1 MiB.
 * @example
 * ```ts
 * await renderCacheKey('deps-{{ md5sum "go.sum" }}', { cwd: '/src' }); // 'deps-1b2c...'
 * ```
 */
export async function renderCacheKey(
  template: string,
  options: CacheKeyOptions = {},
): Promise<string> {
  const parts = parseTemplate(template);
  const cwd = options.cwd ?? process.cwd();
  const read = options.readFile ?? defaultReadFile;
  const now = options.now ?? (() => new Date());
  const env = options.env ?? process.env;
  const digest = async (algorithm: 'md5' | 'sha256', file: string): Promise<string> => {
    if (file === '') fail('empty filename');
    let data: Uint8Array;
    try {
      data = await read(resolve(cwd, file));
    } catch (err) {
      if ((err as { code?: unknown }).code === RunconfigErrorCodes.CacheKey) throw err;
      fail(`reading ${JSON.stringify(file)} for a cache key`, err);
    }
    if (data.byteLength > MAX_CACHE_KEY_SIZE) fail(`file ${JSON.stringify(file)} is too big`);
    return createHash(algorithm).update(data).digest('hex');
  };
  const functions: Record<
    string,
    { arity: number; call: (args: string[]) => string | Promise<string> }
  > = {
    md5sum: { arity: 1, call: ([f]) => digest('md5', f as string) },
    sha256sum: { arity: 1, call: ([f]) => digest('sha256', f as string) },
    env: { arity: 1, call: ([name]) => env[name as string] ?? '' },
    os: { arity: 0, call: () => options.os ?? GO_OS[process.platform] ?? process.platform },
    arch: { arity: 0, call: () => options.arch ?? GO_ARCH[process.arch] ?? process.arch },
    unixtime: { arity: 0, call: () => (BigInt(now().getTime()) * 1_000_000n).toString() },
    year: { arity: 0, call: () => pad(now().getFullYear(), 4) },
    month: { arity: 0, call: () => pad(now().getMonth() + 1, 2) },
    day: { arity: 0, call: () => pad(now().getDate(), 2) },
  };
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      out += part.text;
    } else {
      let piped: string | undefined;
      for (const command of part.pipeline) {
        const [head, ...rest] = command as [Token, ...Token[]];
        const args = rest.map((t) => {
          if (t.kind !== 'string')
            fail(`cache key template ${JSON.stringify(template)}: arguments must be strings`);
          return t.value;
        });
        if (piped !== undefined) args.push(piped);
        if (head.kind === 'string') {
          if (args.length > 0)
            fail(`cache key template ${JSON.stringify(template)}: a string cannot take arguments`);
          piped = head.value;
          continue;
        }
        if (head.kind !== 'ident')
          fail(`cache key template ${JSON.stringify(template)}: unexpected |`);
        const name = head.value;
        const fn = Object.hasOwn(functions, name) ? functions[name] : undefined;
        if (!fn)
          fail(
            `cache key template ${JSON.stringify(template)}: function ${JSON.stringify(name)} not defined`,
          );
        if (args.length !== fn.arity) {
          fail(
            `cache key template ${JSON.stringify(template)}: ${name} takes ${fn.arity} argument(s), got ${args.length}`,
          );
        }
        piped = await fn.call(args);
      }
      out += piped ?? '';
    }
    if (Buffer.byteLength(out) > MAX_CACHE_KEY_SIZE)
      fail('rendered cache key is larger than 1 MiB');
  }
  return out;
}

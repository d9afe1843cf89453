import { AgolaError, compactText, frameOf } from './agola-error.js';
import { causeChain } from './chain.js';
import { formatFrameLocation } from './frame.js';

/** Options of {@link formatError} and {@link errorDetails}. */
export interface FormatOptions {
  /** Show the chain element by element with file:line and function (`--detailed-errors`). */
  detailed?: boolean;
  /** Paths below this directory are shown relative to it. @default process.cwd() */
  cwd?: string;
}

/**
 * One line per chain element, outermost first:
 * `<Type>[<code>] at <function> (<file>:<line>): <own message>`. Elements without a known
 * position (a thrown string, a Node system error from a promise API) omit the `at` part;
 * {@link withStack} wrappers have no message part.
 *
 * @example
 * ```ts
 * errorDetails(err);
 * // [ 'AgolaError[ERR_UNKNOWN] at readWal (libs/datamanager/src/wal.ts:42): reading wal 42',
 * //   'Error[ENOENT]: ENOENT: no such file or directory, open \'/data/wal\'' ]
 * ```
 */
export function errorDetails(err: unknown, options: FormatOptions = {}): string[] {
  const lines: string[] = [];
  for (const element of causeChain(err)) {
    const type = element instanceof Error ? element.name || 'Error' : `thrown ${typeof element}`;
    const code = codeText(element);
    const frame = frameOf(element);
    const where = frame ? ` at ${frame.function} (${formatFrameLocation(frame, options.cwd)})` : '';
    const own =
      element instanceof AgolaError
        ? element.ownMessage
        : element instanceof Error
          ? element.message
          : String(element);
    lines.push(`${type}${code ? `[${code}]` : ''}${where}${own ? `: ${own}` : ''}`);
  }
  return lines;
}

/**
 * Prints an error chain. Compact (default): `"msg: cause: cause"`. Detailed: the compact
 * text, then `error details:` and one indented line per chain element (see
 * {@link errorDetails}); never a full stack per element.
 */
export function formatError(err: unknown, options: FormatOptions = {}): string {
  const text = compactText(err);
  if (!options.detailed) return text;
  const details = errorDetails(err, options).map((line) => `  ${line}`);
  return [text, 'error details:', ...details].join('\n');
}

function codeText(element: unknown): string | undefined {
  if (element === null || typeof element !== 'object') return undefined;
  const code = (element as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

import { AgolaError, causeChain, formatError, is, RemoteError } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';

/**
 * A usage error found after commander parsed the flags (a missing "one of" flag, a bad
 * `name=value` pair in a file...): printed like commander's own errors, exit code 2.
 */
export class UsageError extends AgolaError {
  constructor(message: string) {
    super(message, { code: AgolaAppErrorCodes.CliUsage, callerOf: UsageError });
    this.name = 'UsageError';
  }
}

/**
 * The one-line text of a failed command: each element of the chain once, joined with `: `,
 * where a gateway error shows the gateway's own message (not the client's "remote error"
 * wording) followed by its status and code.
 */
export function errorLine(err: unknown): string {
  const parts: string[] = [];
  for (const element of causeChain(err)) {
    if (element instanceof RemoteError) {
      const what = element.remoteMessage || element.message;
      parts.push(`${what} (${element.status} ${element.code})`);
      break;
    }
    const own =
      element instanceof AgolaError
        ? element.ownMessage
        : element instanceof Error
          ? element.message
          : String(element);
    if (own) parts.push(own);
  }
  return parts.join(': ');
}

/**
 * What the CLI prints on stderr for a failed command: one line by default; with
 * `--detailed-errors` the line, then `error details:` and one line per chain element with
 * the file:line and function where it was created or wrapped.
 */
export function formatCliError(err: unknown, detailed: boolean): string {
  const line = `agola: ${errorLine(err)}`;
  if (!detailed) return line;
  const details = formatError(err, { detailed: true }).split('\n').slice(1);
  return [line, ...details].join('\n');
}

/** The exit code of a failed command: 2 for usage errors, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  return is(err, AgolaAppErrorCodes.CliUsage) ? 2 : 1;
}

import { AgolaError, is } from '@agola-ts/errors';
import { GitSourceErrorCodes, type GitSourceErrorCode } from './codes.js';

/** Options of {@link GitSourceError}. */
export interface GitSourceErrorOptions {
  code: GitSourceErrorCode;
  /** The provider's HTTP status, when the error is an HTTP answer. */
  status?: number;
  cause?: unknown;
}

/**
 * An error of a git source: a provider's error answer (with its HTTP status), a network
 * failure, a bad webhook or a bad argument. Its message never holds a token or a query string.
 */
export class GitSourceError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/gitsources:GitSourceError');

  /** The provider's HTTP status, when the error is an HTTP answer. */
  readonly status: number | undefined;

  constructor(message: string, options: GitSourceErrorOptions) {
    super(message, { code: options.code, cause: options.cause });
    this.status = options.status;
  }
}

/** Whether the chain holds a provider 404 ({@link GitSourceErrorCodes.NotExist}). */
export function isGitSourceNotExist(err: unknown): boolean {
  return is(err, GitSourceErrorCodes.NotExist);
}

/** Whether the chain holds a provider 401 or a failed login ({@link GitSourceErrorCodes.Unauthorized}). */
export function isGitSourceUnauthorized(err: unknown): boolean {
  return is(err, GitSourceErrorCodes.Unauthorized);
}

/** Whether the chain holds a rejected webhook signature ({@link GitSourceErrorCodes.WebhookSignature}). */
export function isWebhookSignatureError(err: unknown): boolean {
  return is(err, GitSourceErrorCodes.WebhookSignature);
}

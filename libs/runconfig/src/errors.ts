import { AgolaError, causeChain } from '@agola-ts/errors';
import { RunconfigErrorCodes } from './codes.js';

/** One problem found in a config file: where (`runs[0].tasks[2].steps[1]`) and what. */
export interface ConfigIssue {
  /** Path in the document, formatted like `runs[0].tasks[2].steps[1]`. */
  path: string;
  /** What is wrong (`command is required`). */
  message: string;
  /** 1-based line of the offending node in the file, when known. */
  line?: number;
  /** 1-based column of the offending node in the file, when known. */
  column?: number;
}

/** The text of an issue as users see it: `runs[0].tasks[2].steps[1]: command is required`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/**
 * The config file parsed but is not a valid run config. `issues` lists every problem found,
 * in document order; `message` joins them with `"; "`. Code `ERR_RUNCONFIG_INVALID`.
 */
export class ConfigValidationError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/runconfig:ConfigValidationError');
  /** Every problem found, in document order. */
  readonly issues: readonly ConfigIssue[];
  /** This error's own text (`invalid run config <file>: <issues>`), without its causes. */
  declare readonly ownMessage: string;

  constructor(issues: readonly ConfigIssue[], file?: string) {
    const where = file ? ` ${file}` : '';
    super(`invalid run config${where}: ${issues.map(formatIssue).join('; ')}`, {
      code: RunconfigErrorCodes.Invalid,
    });
    this.issues = issues;
  }
}

/** Whether `err` (or any error in its cause chain) is a config validation error. */
export function isConfigValidationError(err: unknown): boolean {
  return configIssuesOf(err) !== undefined;
}

/**
 * The issues of the first {@link ConfigValidationError} in the cause chain of `err`, or
 * `undefined`. Matches on the code, so it works across duplicate package copies.
 */
export function configIssuesOf(err: unknown): readonly ConfigIssue[] | undefined {
  for (const element of causeChain(err)) {
    if (
      element instanceof AgolaError &&
      element.code === RunconfigErrorCodes.Invalid &&
      Array.isArray((element as { issues?: unknown }).issues)
    ) {
      return (element as ConfigValidationError).issues;
    }
  }
  return undefined;
}

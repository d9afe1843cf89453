import { AgolaError, causeChain } from '@agola-ts/errors';
import { RunconfigErrorCodes } from './codes.js';

/** One problem found in a config file: where (`runs[0].tasks[2].steps[1]`) and what. */
export interface ConfigIssue {
  /**
   * The config file, when known. For a jsonnet config, `<file> (generated JSON)`: the line
   * and column are then those of the JSON the program generated.
   */
  file?: string;
  /** Path in the document, formatted like `runs[0].tasks[2].steps[1]`. */
  path: string;
  /** What is wrong (`command is required`). */
  message: string;
  /** 1-based line of the offending node in the file, when known. */
  line?: number;
  /** 1-based column of the offending node in the file, when known. */
  column?: number;
}

/**
 * The text of an issue as users see it, with its place in the file when known:
 * `.agola/config.yml:13:13: runs[0].tasks[2].steps[1]: command is required`.
 */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file ?? '';
  if (issue.line !== undefined) {
    where += `${where === '' ? '' : ':'}${issue.line}`;
    if (issue.column !== undefined) where += `:${issue.column}`;
  }
  return `${where === '' ? '' : `${where}: `}${issue.path}: ${issue.message}`;
}

/**
 * The config file parsed but is not a valid run config. `issues` lists every problem found,
 * in document order; `message` joins their {@link formatIssue} texts with `"; "`
 * (`invalid run config: config.yml:3:7: runs[0].name: name is required; ...`). Code
 * `ERR_RUNCONFIG_INVALID`.
 */
export class ConfigValidationError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/runconfig:ConfigValidationError');
  /** Every problem found, in document order. */
  readonly issues: readonly ConfigIssue[];
  /** This error's own text (`invalid run config <file>: <issues>`), without its causes. */
  declare readonly ownMessage: string;

  /** @param file - given to the issues that name no file */
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const withFile =
      file === undefined ? issues : issues.map((i) => (i.file === undefined ? { ...i, file } : i));
    super(`invalid run config: ${withFile.map(formatIssue).join('; ')}`, {
      code: RunconfigErrorCodes.Invalid,
    });
    this.issues = withFile;
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

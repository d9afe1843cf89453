import { compactText } from './agola-error.js';
import { errorDetails } from './format.js';

/** What the serializer puts in a log line's `err` field. */
export interface SerializedError {
  /** Class name of the outermost error (`AgolaError`, `ApiError`, `TypeError`). */
  type: string;
  /** Code of the outermost error, when it has one. */
  code?: string;
  /** Compact chain text: `"msg: cause: cause"`. */
  message: string;
  /** With `detailed`: one line per chain element with file:line and function. */
  details?: string[];
}

/** Options of {@link createErrorSerializer}. */
export interface ErrorSerializerOptions {
  /** Add the per-element `details` (the CLI's `--detailed-errors`). @default false */
  detailed?: boolean;
  /** Paths below this directory are shown relative to it. @default process.cwd() */
  cwd?: string;
}

/**
 * A pino serializer for the `err` field. It logs the compact chain text (and, when
 * `detailed`, one line per element), never a full stack trace of every element.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const log = pino({ serializers: { err: createErrorSerializer({ detailed: true }) } });
 * log.error({ err }, 'checkpoint failed');
 * ```
 */
export function createErrorSerializer(
  options: ErrorSerializerOptions = {},
): (err: unknown) => SerializedError {
  return (err: unknown) => {
    const out: SerializedError = {
      type: err instanceof Error ? err.name || 'Error' : typeof err,
      message: compactText(err),
    };
    const code =
      err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
    if (typeof code === 'string') out.code = code;
    if (options.detailed) out.details = errorDetails(err, { cwd: options.cwd });
    return out;
  };
}

/** The compact serializer (`createErrorSerializer()`), ready for `serializers: { err }`. */
export const errorSerializer: (err: unknown) => SerializedError = createErrorSerializer();

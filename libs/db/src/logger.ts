/**
 * The logger the library accepts: the subset of pino's API it uses. Pass a pino logger (or a
 * child); without one, nothing is logged. Parameter values are never logged.
 */
export interface Logger {
  /** Logs at debug level. */
  debug(obj: object, msg?: string): void;
  /** Logs at info level. */
  info(obj: object, msg?: string): void;
  /** Logs at warn level. */
  warn(obj: object, msg?: string): void;
  /** Logs at error level. */
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** The default logger: drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

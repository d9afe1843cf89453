/**
 * The part of a pino logger the library uses (pino's `Logger` satisfies it). Messages are
 * logged as `log.warn({ err, key }, 'msg')`.
 */
export interface OstLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** The default logger: discards everything. */
export const silentLogger: OstLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The logger libraries accept: the subset of pino's API they use. Pass a pino logger (or a
 * child); without one, libraries log nothing.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

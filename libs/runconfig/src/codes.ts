/**
 * Error codes of `@agola-ts/runconfig`. Every code is documented in `docs/errors.md`.
 */
export const RunconfigErrorCodes = {
  /** The file is not valid YAML or JSON (a syntax error). */
  Parse: 'ERR_RUNCONFIG_PARSE',
  /** The file parsed but does not describe a valid run config; the error lists every issue. */
  Invalid: 'ERR_RUNCONFIG_INVALID',
  /** The file, or the JSON a jsonnet file generates, is larger than 1 MiB. */
  TooLarge: 'ERR_RUNCONFIG_TOO_LARGE',
  /** The jsonnet program failed to evaluate. */
  Jsonnet: 'ERR_RUNCONFIG_JSONNET',
  /** No jsonnet implementation could be started (the `jsonnet` executable is missing). */
  JsonnetUnavailable: 'ERR_RUNCONFIG_JSONNET_UNAVAILABLE',
  /** The file is a starlark config (`config.star`), which this implementation does not run. */
  StarlarkUnsupported: 'ERR_RUNCONFIG_STARLARK_UNSUPPORTED',
  /** The file name has no known config extension and no format was given. */
  UnknownFormat: 'ERR_RUNCONFIG_UNKNOWN_FORMAT',
  /** A cache key template could not be parsed or rendered. */
  CacheKey: 'ERR_RUNCONFIG_CACHE_KEY',
} as const;

/** One of the codes in {@link RunconfigErrorCodes}. */
export type RunconfigErrorCode = (typeof RunconfigErrorCodes)[keyof typeof RunconfigErrorCodes];

import { newError } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';
import { ConfigValidationError } from '../errors.js';
import { decodeConfig } from '../decode/config.js';
import { Reader, type Locator } from '../decode/reader.js';
import type { ConfigContext } from '../ref.js';
import type { Config } from '../types.js';
import { formatOfPath, MAX_CONFIG_SIZE, type ConfigFormat } from './format.js';
import { createJsonnetExecutableEvaluator, type JsonnetEvaluator } from './jsonnet.js';
import { parseJsonDocument } from './json.js';
import { parseYamlDocument } from './yaml.js';

/** Options of {@link parseConfigSync}. */
export interface ParseConfigSyncOptions {
  /** File name, used for the format (from its extension) and in messages. @default '.agola/config.yml' */
  path?: string;
  /** Format, when it cannot be told from `path`. Only `yaml` and `json` are synchronous. */
  format?: 'yaml' | 'json';
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** File name, used for the format (from its extension) and in messages. @default '.agola/config.yml' */
  path?: string;
  /** Format, when it cannot be told from `path`. */
  format?: ConfigFormat;
  /**
   * The `ctx` top-level argument given to jsonnet configs.
   * @default every field empty, ref_type `branch`
   */
  context?: ConfigContext;
  /**
   * How to evaluate jsonnet. By default the `jsonnet` executable on the PATH
   * ({@link createJsonnetExecutableEvaluator}).
   */
  jsonnet?: JsonnetEvaluator;
  /** Cancels a running jsonnet evaluation. */
  signal?: AbortSignal;
}

const EMPTY_CONTEXT: ConfigContext = {
  ref_type: 'branch',
  ref: '',
  branch: '',
  tag: '',
  pull_request_id: '',
  commit_sha: '',
};

let defaultEvaluator: JsonnetEvaluator | undefined;

function toText(data: string | Uint8Array, file: string): string {
  const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
  if (size > MAX_CONFIG_SIZE) {
    throw newError(`${file}: config is larger than 1 MiB (${size} bytes)`, {
      code: RunconfigErrorCodes.TooLarge,
    });
  }
  return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
}

/**
 * Validates a config that is already a plain value (the JSON of the file), applying every
 * short form and default. Issues name `path` as their file, with the line and column that
 * `locate` finds (none without it).
 *
 * @throws ConfigValidationError (`ERR_RUNCONFIG_INVALID`) listing every issue with its path.
 * @example
 * ```ts
 * const config = validateConfig(JSON.parse(text));
 * ```
 */
export function validateConfig(
  value: unknown,
  options: { path?: string; locate?: Locator } = {},
): Config {
  const reader = new Reader(options.locate, options.path);
  const config = decodeConfig(reader, value);
  if (reader.issues.length > 0) throw new ConfigValidationError(reader.issues, options.path);
  return config;
}

/**
 * Parses and validates a YAML or JSON config synchronously.
 *
 * @throws AgolaError `ERR_RUNCONFIG_PARSE` on a syntax error, `ERR_RUNCONFIG_TOO_LARGE` above
 * 1 MiB, `ERR_RUNCONFIG_STARLARK_UNSUPPORTED` for `.star` files; {@link ConfigValidationError}
 * (`ERR_RUNCONFIG_INVALID`) when the content is not a valid config.
 * @example
 * ```ts
 * const config = parseConfigSync(readFileSync('.agola/config.yml', 'utf8'));
 * ```
 */
export function parseConfigSync(
  data: string | Uint8Array,
  options: ParseConfigSyncOptions = {},
): Config {
  const file = options.path ?? '.agola/config.yml';
  const format = options.format ?? formatOfPath(file);
  if (format !== 'yaml' && format !== 'json') {
    refuseStarlark(format, file);
    throw newError(`${file}: ${format} configs must be parsed with parseConfig (asynchronous)`, {
      code: RunconfigErrorCodes.UnknownFormat,
    });
  }
  const text = toText(data, file);
  const doc = format === 'json' ? parseJsonDocument(text, file) : parseYamlDocument(text, file);
  return validateConfig(doc.value, { path: file, locate: doc.locate });
}

function refuseStarlark(format: ConfigFormat, file: string): void {
  if (format === 'starlark') {
    throw newError(
      `${file}: starlark configs are not supported; write the config as .agola/config.jsonnet, config.json or config.yml`,
      { code: RunconfigErrorCodes.StarlarkUnsupported },
    );
  }
}

/**
 * Parses and validates a config in any supported format: YAML, JSON, or jsonnet evaluated
 * with the `ctx` top-level argument. Starlark is refused with a clear error naming the file.
 *
 * @throws AgolaError `ERR_RUNCONFIG_PARSE`, `ERR_RUNCONFIG_TOO_LARGE`, `ERR_RUNCONFIG_JSONNET`,
 * `ERR_RUNCONFIG_JSONNET_UNAVAILABLE`, `ERR_RUNCONFIG_STARLARK_UNSUPPORTED`,
 * `ERR_RUNCONFIG_UNKNOWN_FORMAT`, or a {@link ConfigValidationError} (`ERR_RUNCONFIG_INVALID`).
 * @example
 * ```ts
 * const config = await parseConfig(text, {
 *   path: '.agola/config.jsonnet',
 *   context: contextOfRef('refs/heads/master', sha),
 * });
 * ```
 */
export async function parseConfig(
  data: string | Uint8Array,
  options: ParseConfigOptions = {},
): Promise<Config> {
  const file = options.path ?? '.agola/config.yml';
  const format = options.format ?? formatOfPath(file);
  refuseStarlark(format, file);
  if (format !== 'jsonnet')
    return parseConfigSync(data, { path: file, format: format as 'yaml' | 'json' });
  const source = toText(data, file);
  const evaluate = options.jsonnet ?? (defaultEvaluator ??= createJsonnetExecutableEvaluator());
  const json = await evaluate(source, options.context ?? EMPTY_CONTEXT, {
    file,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const generated = toText(json, file);
  // Issues point into the generated JSON: jsonnet keeps no map back to its source.
  const label = `${file} (generated JSON)`;
  let doc;
  try {
    doc = parseJsonDocument(generated, label);
  } catch (err) {
    throw newError(`${file}: jsonnet did not generate JSON: ${(err as Error).message}`, {
      code: RunconfigErrorCodes.Jsonnet,
    });
  }
  return validateConfig(doc.value, { path: label, locate: doc.locate });
}

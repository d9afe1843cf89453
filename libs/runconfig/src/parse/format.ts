import { newError } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';

/** The formats a config file can have. `starlark` is recognised only to be refused clearly. */
export type ConfigFormat = 'yaml' | 'json' | 'jsonnet' | 'starlark';

/** Largest accepted config, in bytes: the file, and the JSON a jsonnet file generates. */
export const MAX_CONFIG_SIZE = 1024 * 1024;

/**
 * The config file paths in a repository, in the order Agola looks them up: the first one
 * that exists is used.
 */
export const CONFIG_FILE_PATHS: readonly string[] = [
  '.agola/config.star',
  '.agola/config.jsonnet',
  '.agola/config.json',
  '.agola/config.yml',
];

/**
 * The format of a config file from its name (`.yml`/`.yaml`, `.json`, `.jsonnet`, `.star`).
 *
 * @throws AgolaError `ERR_RUNCONFIG_UNKNOWN_FORMAT` for any other extension.
 */
export function formatOfPath(path: string): ConfigFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'yaml';
  if (lower.endsWith('.jsonnet') || lower.endsWith('.libsonnet')) return 'jsonnet';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.star')) return 'starlark';
  throw newError(
    `cannot tell the config format of ${JSON.stringify(path)} (expected .yml, .json or .jsonnet)`,
    {
      code: RunconfigErrorCodes.UnknownFormat,
    },
  );
}

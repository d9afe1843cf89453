import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { newError, wrap } from '@agola-ts/errors';
import { ServiceKitErrorCodes } from '../codes.js';
import { parseAgolaConfig, type AgolaConfig } from './agola-config.js';

/**
 * Reads an Agola config file (YAML, the keys of Agola's `config.yml`) and checks its top
 * level; each service then checks its own section with `serviceSection`.
 *
 * @throws `ERR_SERVICE_CONFIG_READ` when the file cannot be read or is not valid YAML;
 *   a `ConfigError` (`ERR_SERVICE_INVALID_CONFIG`) for an unknown top-level key or a bad `id`.
 * @example
 * ```ts
 * const config = await loadConfig('/etc/agola/config.yml');
 * ```
 */
export async function loadConfig(path: string): Promise<AgolaConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw wrap(err, `reading config file ${path}`, { code: ServiceKitErrorCodes.ConfigRead });
  }
  return parseConfigText(text, path);
}

/** {@link loadConfig} for config text already in memory; `source` names it in messages. */
export function parseConfigText(text: string, source: string): AgolaConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // every error at once, each on its first line (the rest is a source excerpt)
    const all = doc.errors.map((e) => e.message.split('\n')[0]).join('; ');
    throw newError(`config file ${source} is not valid YAML: ${all}`, {
      code: ServiceKitErrorCodes.ConfigRead,
    });
  }
  return parseAgolaConfig(doc.toJS(), source);
}

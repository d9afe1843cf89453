import { ConfigError } from './config-error.js';
import { keyPath, optional, refine, string, type Issue, type Schema } from './schema.js';

/** The service sections of Agola's config file (§1.3 of the reference). */
export const SERVICE_SECTIONS = [
  'gateway',
  'scheduler',
  'notification',
  'runservice',
  'executor',
  'configstore',
  'gitserver',
] as const;

/** One of {@link SERVICE_SECTIONS}. */
export type ServiceSectionName = (typeof SERVICE_SECTIONS)[number];

/**
 * A loaded config file: the installation `id` and each service's raw section, checked by
 * {@link serviceSection} when the service starts (so a file may hold sections of services
 * this process does not run).
 */
export interface AgolaConfig {
  /** Installation id. @default 'agola' */
  id: string;
  /** The raw sections, by service name. */
  sections: Partial<Record<ServiceSectionName, unknown>>;
  /** Where the config came from, for messages (a file path). */
  source: string;
}

// linear: each character has one way to match
const ID_PATTERN = /^[a-zA-Z](?:-?[a-zA-Z0-9])*$/;

const idSchema: Schema<string> = optional(
  refine(string(), (id): string | Issue =>
    id.length <= 20 && ID_PATTERN.test(id)
      ? id
      : {
          issue: 'must be a name of at most 20 letters, digits and dashes, starting with a letter',
        },
  ),
  'agola',
);

/**
 * Checks the top level of a parsed config file: only `id` and the service sections; an
 * unknown key is an error (a typo must not be silently ignored).
 *
 * @throws {@link ConfigError}
 */
export function parseAgolaConfig(value: unknown, source: string): AgolaConfig {
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(source, ['the file must be a mapping of keys to values']);
  }
  const raw = value as Record<string, unknown>;
  const issues: string[] = [];
  const known = ['id', ...SERVICE_SECTIONS];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      issues.push(`${keyPath('', key)}: unknown key (known keys: ${known.join(', ')})`);
    }
  }
  const id = idSchema.check(raw['id'], 'id', issues);
  if (issues.length > 0) throw new ConfigError(source, issues);
  const sections: AgolaConfig['sections'] = {};
  for (const name of SERVICE_SECTIONS) {
    if (raw[name] !== undefined && raw[name] !== null) sections[name] = raw[name];
  }
  return { id, sections, source };
}

/**
 * Validates a service's section of the config with `schema`. Problems name the key by its
 * full path (`configstore.etcd.endpoints: must be a list of URLs`); all are reported at once.
 *
 * @throws {@link ConfigError} (`ERR_SERVICE_INVALID_CONFIG`), also when the section is missing.
 * @example
 * ```ts
 * const cs = serviceSection(await loadConfig('/etc/agola/config.yml'), 'configstore', dataServiceSchema);
 * cs.etcd.endpoints; // ['http://127.0.0.1:2379']
 * ```
 */
export function serviceSection<T>(
  config: AgolaConfig,
  name: ServiceSectionName,
  schema: Schema<T>,
): T {
  const issues: string[] = [];
  const value = schema.check(config.sections[name], name, issues);
  if (issues.length > 0) throw new ConfigError(config.source, issues);
  return value;
}

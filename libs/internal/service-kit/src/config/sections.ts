import type { ObjectStorageConfig } from '@agola-ts/ost';
import {
  boolean,
  list,
  object,
  oneOf,
  optional,
  refine,
  string,
  tagged,
  urlList,
  type Infer,
  type Issue,
  type Schema,
} from './schema.js';

/** A listen address split into host and port. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`, `:port` (all interfaces, as in Go) or `[::1]:port`. */
export function parseListenAddress(address: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
  return { host, port };
}

/** `listenAddress`: checked on its own, so its problem is reported with the others. */
const listenAddressSchema = refine(string(), (address): string | Issue =>
  parseListenAddress(address) ? address : { issue: 'must be host:port, like 0.0.0.0:4002' },
);

/** The `web` block: where a service listens, TLS, CORS origins (gateway only). */
export const webSchema = refine(
  object({
    listenAddress: listenAddressSchema,
    tls: optional(boolean(), false),
    tlsCertFile: optional(string()),
    tlsKeyFile: optional(string()),
    allowedOrigins: optional(list(string()), []),
  }),
  (web) => {
    // every problem at once
    const problems: Issue[] = [];
    if (web.tls && web.tlsCertFile === undefined) {
      problems.push({ key: 'tlsCertFile', issue: 'is required when tls is true' });
    }
    if (web.tls && web.tlsKeyFile === undefined) {
      problems.push({ key: 'tlsKeyFile', issue: 'is required when tls is true' });
    }
    const listen = parseListenAddress(web.listenAddress);
    if (!listen || problems.length > 0) return problems;
    return { ...web, listen };
  },
);
/** A checked `web` block; `listen` is `listenAddress` split for `listen()`. */
export type WebConfig = Infer<typeof webSchema>;

/** `endpoints`: checked on its own, so its problem is reported with the others. */
const endpointsSchema = refine(urlList(), (endpoints): string[] | Issue =>
  new Set(endpoints.map((e) => new URL(e).protocol)).size > 1
    ? { issue: 'must all use the same scheme (http or https)' }
    : endpoints,
);

/** The `etcd` block: endpoints (a list, or Agola's comma-separated string) and client TLS. */
export const etcdSchema = object({
  endpoints: optional(endpointsSchema, ['http://127.0.0.1:2379']),
  tlsCertFile: optional(string()),
  tlsKeyFile: optional(string()),
  tlsCAFile: optional(string()),
  tlsSkipVerify: optional(boolean(), false),
});

/** A checked `etcd` block. */
export type EtcdConfig = Infer<typeof etcdSchema>;

const posixSchema = refine(
  object({ type: oneOf(['posix']), path: string() }),
  (c): ObjectStorageConfig => ({ type: 'posix', path: c.path }),
);

const s3Schema = refine(
  object({
    type: oneOf(['s3']),
    endpoint: optional(string()),
    bucket: string(),
    location: optional(string()),
    accessKey: optional(string()),
    secretAccessKey: optional(string()),
    disableTLS: optional(boolean(), false),
  }),
  (c): ObjectStorageConfig | Issue => {
    let endpoint = c.endpoint;
    // as in Agola: a URL's scheme decides TLS; a bare host uses disableTLS
    if (endpoint !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
      endpoint = `${c.disableTLS ? 'http' : 'https'}://${endpoint}`;
    }
    if (endpoint !== undefined && !URL.canParse(endpoint)) {
      return { key: 'endpoint', issue: 'must be a URL or a host[:port]' };
    }
    return {
      type: 's3',
      bucket: c.bucket,
      ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : {}),
      ...(c.location !== undefined ? { region: c.location } : {}),
      ...(c.accessKey !== undefined ? { accessKeyId: c.accessKey } : {}),
      ...(c.secretAccessKey !== undefined ? { secretAccessKey: c.secretAccessKey } : {}),
    };
  },
);

/**
 * The `objectStorage` block with Agola's keys (`type: posix` with `path`; `type: s3` with
 * `endpoint`, `bucket`, `location`, `accessKey`, `secretAccessKey`, `disableTLS`), checked
 * and turned into the config `createObjectStorage` of `@agola-ts/ost` takes.
 */
export const objectStorageSchema: Schema<ObjectStorageConfig> = tagged('type', {
  posix: posixSchema,
  s3: s3Schema,
});

/** Shared keys of a service that stores data (configstore, runservice). */
export const dataServiceSchema = object({
  debug: optional(boolean(), false),
  dataDir: string(),
  web: webSchema,
  etcd: optional(etcdSchema, { endpoints: ['http://127.0.0.1:2379'], tlsSkipVerify: false }),
  objectStorage: objectStorageSchema,
});

/** A checked {@link dataServiceSchema} section. */
export type DataServiceConfig = Infer<typeof dataServiceSchema>;

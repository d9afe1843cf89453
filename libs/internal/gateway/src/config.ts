import {
  boolean,
  duration,
  object,
  oneOf,
  optional,
  refine,
  string,
  url,
  webSchema,
  type HostPort,
  type Infer,
  type Issue,
  type Schema,
} from '@agola-ts/service-kit';

/** How login JWTs are signed: HS256 with a shared key, or RS256 with a PEM key pair. */
export type TokenSigningConfig =
  | {
      method: 'hmac';
      /** The HMAC key. */
      key: string;
      /** How long a login JWT is valid, in ms. @default 12 h */
      durationMs?: number;
    }
  | {
      method: 'rsa';
      /** The PEM private key file (signs). */
      privateKeyPath: string;
      /** The PEM public key file (verifies). */
      publicKeyPath: string;
      /** How long a login JWT is valid, in ms. @default 12 h */
      durationMs?: number;
    };

/**
 * The gateway's config: the `gateway` section of Agola's config file (§1.3 of the
 * reference), with durations in ms.
 */
export interface GatewayConfig {
  /** The installation id (names the forge token `agola-<id>`, webhook `agolaid`). @default 'agola' */
  id?: string;
  /** The URL the API is reachable at (webhooks point at `<apiExposedURL>/webhooks`). */
  apiExposedURL: string;
  /** The URL of the web UI (OAuth2 callback `<webExposedURL>/oauth2/callback`, run links). */
  webExposedURL: string;
  /** The runservice API base URL, without the prefix (`http://127.0.0.1:4000`). */
  runserviceURL: string;
  /** The configstore API base URL, without the prefix (`http://127.0.0.1:4002`). */
  configstoreURL: string;
  /** The git server URL (`/repos/*` is proxied there). */
  gitserverURL?: string;
  /**
   * Where to listen, the CORS origins (no CORS when empty), and the directory of the built
   * web UI to serve at `/` (ours, not Agola's: Agola serves its UI separately). No UI is
   * served when unset.
   */
  web: { listen: HostPort; allowedOrigins?: string[]; bundlePath?: string };
  /** Login JWT signing. */
  tokenSigning: TokenSigningConfig;
  /** A static token that grants admin (`Authorization: token <adminToken>`). */
  adminToken?: string;
}

/** The default validity of a login JWT: 12 hours. */
export const DEFAULT_TOKEN_DURATION_MS = 12 * 60 * 60 * 1000;
/** The default installation id. */
export const DEFAULT_AGOLA_ID = 'agola';

const tokenSigningSchema = refine(
  object({
    duration: optional(duration()),
    method: oneOf(['hmac', 'rsa']),
    key: optional(string()),
    privateKeyPath: optional(string()),
    publicKeyPath: optional(string()),
  }),
  (t): TokenSigningConfig | Issue[] => {
    const durationMs = t.duration !== undefined ? { durationMs: t.duration } : {};
    if (t.method === 'hmac') {
      if (!t.key) return [{ key: 'key', issue: 'is required with method hmac' }];
      return { method: 'hmac', key: t.key, ...durationMs };
    }
    const problems: Issue[] = [];
    if (!t.privateKeyPath)
      problems.push({ key: 'privateKeyPath', issue: 'is required with method rsa' });
    if (!t.publicKeyPath)
      problems.push({ key: 'publicKeyPath', issue: 'is required with method rsa' });
    if (problems.length > 0 || !t.privateKeyPath || !t.publicKeyPath) return problems;
    return {
      method: 'rsa',
      privateKeyPath: t.privateKeyPath,
      publicKeyPath: t.publicKeyPath,
      ...durationMs,
    };
  },
);

/**
 * The gateway's `web` block: the common one plus `bundlePath` (the web UI's directory), which
 * the other services do not accept.
 */
const gatewayWebSchema: Schema<Infer<typeof webSchema> & { bundlePath?: string }> = {
  expected: webSchema.expected,
  check(value, path, issues) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, 'bundlePath')) {
      return webSchema.check(value, path, issues);
    }
    const { bundlePath, ...rest } = value as Record<string, unknown>;
    const web = webSchema.check(rest, path, issues);
    const dir = string().check(
      bundlePath,
      path === '' ? 'bundlePath' : `${path}.bundlePath`,
      issues,
    );
    return { ...web, bundlePath: dir };
  },
};

/** Any value (the `etcd` and `objectStorage` keys Agola's gateway section has but does not use). */
const unused: Schema<unknown> = { expected: 'anything', check: (v) => v };

/**
 * The `gateway` section of Agola's config file (§1.3), checked and turned into a
 * {@link GatewayConfig} without its `id` (take it from the file's top level): Go durations
 * become ms, `web.listenAddress` is split into `listen`.
 *
 * @example
 * ```ts
 * const file = await loadConfig('config.yml');
 * const gw = createGateway({ ...serviceSection(file, 'gateway', gatewaySchema), id: file.id }, { logger });
 * ```
 */
export const gatewaySchema = refine(
  object({
    debug: optional(boolean(), false),
    apiExposedURL: url(),
    webExposedURL: url(),
    runserviceURL: url(),
    configstoreURL: url(),
    gitserverURL: optional(url()),
    web: gatewayWebSchema,
    etcd: optional(unused),
    objectStorage: optional(unused),
    tokenSigning: tokenSigningSchema,
    adminToken: optional(string()),
  }),
  (g): GatewayConfig => {
    const web = g.web as { listen: HostPort; allowedOrigins?: string[]; bundlePath?: string };
    return {
      apiExposedURL: g.apiExposedURL,
      webExposedURL: g.webExposedURL,
      runserviceURL: g.runserviceURL,
      configstoreURL: g.configstoreURL,
      ...(g.gitserverURL !== undefined ? { gitserverURL: g.gitserverURL } : {}),
      web: {
        listen: web.listen,
        allowedOrigins: web.allowedOrigins ?? [],
        ...(web.bundlePath !== undefined ? { bundlePath: web.bundlePath } : {}),
      },
      tokenSigning: g.tokenSigning,
      ...(g.adminToken !== undefined ? { adminToken: g.adminToken } : {}),
    };
  },
);

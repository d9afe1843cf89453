import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConfigstore } from '@agola-ts/configstore';
import { AgolaError, formatError, newError } from '@agola-ts/errors';
import { createExecutor } from '@agola-ts/executor';
import { createGateway, gatewaySchema } from '@agola-ts/gateway';
import { createNotification, notificationSchema } from '@agola-ts/notification';
import { createGitserver, gitserverSchema, type Gitserver } from '@agola-ts/gitserver';
import { createRunservice, runserviceSchema } from '@agola-ts/runservice';
import { createScheduler, schedulerSchema } from '@agola-ts/scheduler';
import {
  ConfigError,
  dataServiceSchema,
  loadConfig,
  serviceSection,
  type AgolaConfig,
  type Schema,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import { AgolaAppErrorCodes } from './codes.js';
import { startEmbeddedEtcd, type EmbeddedEtcd } from './embedded-etcd.js';
import { executorSchema } from './executor-section.js';

// for commands/serve.ts, which loads the services' code only when it runs (a lazy import of
// the library itself is refused by the module boundaries rule while this file imports it)
export { ConfigError };

/** The components `agola serve` can run. */
export const COMPONENTS = [
  'configstore',
  'runservice',
  'executor',
  'scheduler',
  'notification',
  'gateway',
  'gitserver',
] as const;
/** One of {@link COMPONENTS}. */
export type Component = (typeof COMPONENTS)[number];

/** `all-base`: every component but the executor (as in Agola). */
const ALL_BASE: readonly Component[] = [
  'configstore',
  'runservice',
  'scheduler',
  'notification',
  'gateway',
  'gitserver',
];

/**
 * Parses `--components` (comma-separated; `all-base` = every component but the executor).
 *
 * @throws `ERR_AGOLA_INVALID_COMPONENTS` naming every unknown name.
 */
export function parseComponents(list: string): Set<Component> {
  const out = new Set<Component>();
  const problems: string[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (name === 'all-base') ALL_BASE.forEach((c) => out.add(c));
    else if ((COMPONENTS as readonly string[]).includes(name)) out.add(name as Component);
    else problems.push(`unknown component "${name}"`);
  }
  if (problems.length === 0 && out.size === 0) problems.push('no component given');
  if (problems.length > 0) {
    throw newError(
      `--components: ${problems.join('; ')} (valid: all-base, ${COMPONENTS.join(', ')})`,
      { code: AgolaAppErrorCodes.InvalidComponents },
    );
  }
  return out;
}

/**
 * The web UI's bundle in a checkout (`apps/web/dist`, from `apps/agola/dist/main.js` or
 * `apps/agola/src/serve.ts`): served when the gateway section names no `web.bundlePath`.
 */
export const DEFAULT_WEB_BUNDLE = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Options of {@link startServe}. */
export interface ServeOptions {
  /** Path of Agola's config file (YAML, reference §1.3). */
  configPath: string;
  /** The components to run. */
  components: Set<Component>;
  /** Where the embedded etcd keeps its data. @default `<dirname of a dataDir>/etcd` */
  embeddedEtcdDataDir?: string;
  /**
   * The web UI bundle the gateway serves when its section names none (only if it holds an
   * `index.html`). @default {@link DEFAULT_WEB_BUNDLE}
   */
  defaultWebBundle?: string;
  /** The root logger (services log through children of it). */
  logger: ServiceLogger & { child(bindings: object, options?: { level?: string }): ServiceLogger };
}

/** A running `agola serve`. */
export interface Serve {
  /** The embedded etcd's client URL, when one was started. */
  readonly etcdEndpoint: string | undefined;
  /** The embedded etcd's pid, when one was started. */
  readonly etcdPid: number | undefined;
  /** Components in the order they started. */
  readonly started: readonly Component[];
  /** Stops the services in reverse start order, then the embedded etcd. */
  stop(): Promise<void>;
}

interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Sections = {
  configstore?: typeof dataServiceSchema extends Schema<infer T> ? T : never;
  runservice?: typeof runserviceSchema extends Schema<infer T> ? T : never;
  executor?: typeof executorSchema extends Schema<infer T> ? T : never;
  scheduler?: typeof schedulerSchema extends Schema<infer T> ? T : never;
  notification?: typeof notificationSchema extends Schema<infer T> ? T : never;
  gateway?: typeof gatewaySchema extends Schema<infer T> ? T : never;
  gitserver?: typeof gitserverSchema extends Schema<infer T> ? T : never;
};

/**
 * Checks the sections of the enabled components; every problem of every section is
 * reported at once.
 *
 * @throws `ConfigError` (`ERR_SERVICE_INVALID_CONFIG`) listing every problem.
 */
export function checkSections(config: AgolaConfig, components: Set<Component>): Sections {
  const issues: string[] = [];
  const out: Sections = {};
  const check = <T>(name: Component, schema: Schema<T>): T | undefined => {
    if (!components.has(name)) return undefined;
    try {
      return serviceSection(config, name, schema);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
      return undefined;
    }
  };
  out.configstore = check('configstore', dataServiceSchema);
  out.runservice = check('runservice', runserviceSchema);
  out.executor = check('executor', executorSchema);
  out.scheduler = check('scheduler', schedulerSchema);
  out.notification = check('notification', notificationSchema);
  out.gateway = check('gateway', gatewaySchema);
  out.gitserver = check('gitserver', gitserverSchema);
  if (issues.length > 0) throw new ConfigError(config.source, issues);
  return out;
}

function sectionDebug(config: AgolaConfig, name: 'gateway' | 'gitserver'): boolean {
  return (config.sections[name] as { debug?: unknown } | undefined)?.debug === true;
}

/** A listen host as a URL host for a client on this machine. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function hasEtcdSection(
  config: AgolaConfig,
  name: 'configstore' | 'runservice' | 'notification',
): boolean {
  const section = config.sections[name];
  return (
    typeof section === 'object' &&
    section !== null &&
    Object.hasOwn(section, 'etcd') &&
    (section as Record<string, unknown>)['etcd'] !== null
  );
}

/**
 * Loads the config, starts an embedded etcd when the enabled stateful services configure
 * none, and starts the components (configstore, runservice, executor, scheduler,
 * notification, gateway, gitserver). With both the gateway and the gitserver and no
 * `gateway.gitserverURL`, the gateway's `/repos` goes to this process's git server.
 * A failed start stops what already started.
 *
 * @throws `ConfigError` for a broken config file, `ERR_AGOLA_ETCD_*` for the embedded etcd,
 *   and a service's own error when it cannot start.
 */
export async function startServe(options: ServeOptions): Promise<Serve> {
  const { logger, components } = options;
  const config = await loadConfig(options.configPath);
  const s = checkSections(config, components);
  const childLogger = (service: Component, debug: boolean | undefined) =>
    logger.child({ name: service }, debug ? { level: 'debug' } : {});

  const stateful = (['configstore', 'runservice'] as const).filter((c) => components.has(c));
  let etcd: EmbeddedEtcd | undefined;
  const running: { name: Component; service: Startable }[] = [];
  const stop = async () => {
    for (const { name, service } of running.splice(0).reverse()) {
      logger.info({ service: name }, 'stopping');
      await service
        .stop()
        .catch((err: unknown) => logger.error({ service: name, err }, 'stop failed'));
    }
    await etcd?.stop();
  };

  try {
    if (stateful.length > 0 && !stateful.some((c) => hasEtcdSection(config, c))) {
      const dataDir = s.runservice?.dataDir ?? s.configstore?.dataDir ?? '.';
      etcd = await startEmbeddedEtcd({
        dataDir: options.embeddedEtcdDataDir ?? join(dirname(dataDir), 'etcd'),
        logger: logger.child({ name: 'etcd' }),
      });
      const endpoints = [etcd.endpoint];
      if (s.configstore)
        s.configstore = { ...s.configstore, etcd: { ...s.configstore.etcd, endpoints } };
      if (s.runservice)
        s.runservice = { ...s.runservice, etcd: { ...s.runservice.etcd, endpoints } };
    }
    // the notification service shares the etcd of this process's runservice unless it names its own
    if (s.notification && !hasEtcdSection(config, 'notification')) {
      const endpoints = etcd ? [etcd.endpoint] : s.runservice?.etcd.endpoints;
      if (endpoints)
        s.notification = { ...s.notification, etcd: { ...s.notification.etcd, endpoints } };
    }
    const add = async (name: Component, service: Startable) => {
      await service.start();
      running.push({ name, service });
      logger.info({ service: name }, 'started');
    };
    if (s.configstore) {
      await add(
        'configstore',
        createConfigstore(s.configstore, {
          logger: childLogger('configstore', s.configstore.debug),
        }),
      );
    }
    if (s.runservice) {
      await add(
        'runservice',
        createRunservice(s.runservice, { logger: childLogger('runservice', s.runservice.debug) }),
      );
    }
    if (s.executor) {
      const { debug, ...executor } = s.executor;
      await add('executor', createExecutor(executor, { logger: childLogger('executor', debug) }));
    }
    if (s.scheduler) {
      await add(
        'scheduler',
        createScheduler(s.scheduler, { logger: childLogger('scheduler', false) }),
      );
    }
    if (s.notification) {
      const { debug, ...notification } = s.notification;
      await add(
        'notification',
        createNotification(
          { ...notification, id: config.id },
          { logger: childLogger('notification', debug) },
        ),
      );
    }
    if (s.gateway && s.gateway.web.bundlePath === undefined) {
      const bundle = options.defaultWebBundle ?? DEFAULT_WEB_BUNDLE;
      if (existsSync(join(bundle, 'index.html'))) {
        s.gateway = { ...s.gateway, web: { ...s.gateway.web, bundlePath: bundle } };
        logger.info({ bundle }, 'the gateway serves the web UI');
      }
    }
    const gitserverDebug = sectionDebug(config, 'gitserver');
    const gitserver: Gitserver | undefined = s.gitserver
      ? createGitserver(s.gitserver, { logger: childLogger('gitserver', gitserverDebug) })
      : undefined;
    let gateway = s.gateway;
    if (gateway && gitserver && s.gitserver && gateway.gitserverURL === undefined) {
      // both in this process: the gateway's /repos goes to this git server
      const { host, port } = s.gitserver.web.listen;
      if (port === 0) {
        // its port is known only once it listens
        await add('gitserver', gitserver);
        gateway = { ...gateway, gitserverURL: gitserver.url };
      } else {
        gateway = { ...gateway, gitserverURL: `http://${urlHost(host)}:${port}` };
      }
    }
    if (gateway) {
      await add(
        'gateway',
        createGateway(
          { ...gateway, id: config.id },
          { logger: childLogger('gateway', sectionDebug(config, 'gateway')) },
        ),
      );
    }
    // last, as Agola starts it
    if (gitserver && !running.some((r) => r.name === 'gitserver')) {
      await add('gitserver', gitserver);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    etcdEndpoint: etcd?.endpoint,
    etcdPid: etcd?.pid,
    started: running.map((r) => r.name),
    stop,
  };
}

/**
 * What `agola serve` prints on stderr for a failed start: every problem of a broken config
 * file on its own line, else the message and code.
 */
export function serveFailureText(err: unknown): string {
  if (err instanceof ConfigError) {
    return [`agola: ${err.message.split(': ')[0]}:`, ...err.issues.map((i) => `  - ${i}`)]
      .map((l) => `${l}\n`)
      .join('');
  }
  if (err instanceof AgolaError) return `agola: ${err.message} [${err.code}]\n`;
  return `agola: ${formatError(err)}\n`;
}

import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ServiceKitErrorCodes } from './codes.js';
import { handleError } from './error-handler.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { serializeRequest } from './request-log.js';
import { RouteTable } from './route-table.js';
import type { ServiceLogger } from './service-logger.js';

/** The default JSON body limit of a service server: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Options of {@link createServiceServer}. */
export interface ServiceServerOptions {
  /** The app's pino logger; the server logs through a child tagged `{ service: name }`. */
  logger: ServiceLogger;
  /** The service name (`configstore`, `runservice`...), in every log line of the server. */
  name: string;
  /** Largest accepted request body, in bytes (a larger one gets a 413). @default 1 MiB */
  bodyLimit?: number;
  /**
   * Added to the message of 404s, to say why a route may be missing (the maintenance server
   * says the service is in maintenance mode).
   */
  notFoundHint?: string;
  /** Log every request and response (fastify's request logging). @default true */
  requestLogging?: boolean;
}

/**
 * A fastify server set up the way every service answers:
 * - logs through a child of the app's logger; every request has an id (the caller's
 *   `x-request-id`, else a new UUID) that is in its log lines and echoed in the response;
 * - JSON bodies up to `bodyLimit` (413 beyond);
 * - errors as JSON `{code, message}` with the status of their kind (see `errorResponse`),
 *   500s answered with only "internal server error" and logged with their whole chain;
 * - 404 for an unknown path and 405 (with `Allow`) for a known path with another method,
 *   both as JSON errors.
 *
 * Register routes under `API_PREFIX`; the server is not listening yet.
 *
 * @example
 * ```ts
 * const app = createServiceServer({ logger, name: 'configstore' });
 * await app.register(async (api) => { api.get('/users', listUsers); }, { prefix: API_PREFIX });
 * await app.listen({ host: '127.0.0.1', port: 4002 });
 * ```
 */
export function createServiceServer(options: ServiceServerOptions): FastifyInstance {
  const app = fastify({
    // typed as fastify's base logger so the instance is a plain FastifyInstance
    loggerInstance: options.logger.child(
      { service: options.name },
      // request lines never carry query values: they can be tokens
      { serializers: { req: serializeRequest } },
    ) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    genReqId: requestIdOf,
    logController: new LogController({
      requestIdLogLabel: 'reqId',
      disableRequestLogging: options.requestLogging === false,
    }),
  });
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.addHook('onRequest', async (req, reply) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0] ?? req.url;
    const allowed = routes.methodsFor(path);
    const json = 'application/json; charset=utf-8';
    if (allowed.length > 0) {
      void reply
        .code(405)
        .type(json)
        .header('allow', allowed.join(', '))
        .send({
          code: ServiceKitErrorCodes.MethodNotAllowed,
          message: `method ${req.method} not allowed on ${path} (allowed: ${allowed.join(', ')})`,
        });
      return;
    }
    const hint = options.notFoundHint ? `: ${options.notFoundHint}` : '';
    void reply
      .code(404)
      .type(json)
      .send({
        code: ServiceKitErrorCodes.NoRoute,
        message: `no route for ${req.method} ${path}${hint}`,
      });
  });
  return app;
}

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { DEFAULT_MAX_BODY_DEPTH, jsonDepth } from './body-depth.js';
import { ServiceKitErrorCodes } from './codes.js';
import { handleError } from './error-handler.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { serializeRequest } from './request-log.js';
import { RouteTable } from './route-table.js';
import type { ServiceLogger } from './service-logger.js';

/** The default JSON body limit of a service server: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The default longest path parameter (one URL path segment, as sent) a service server routes:
 * a longer one gets a 414. Names are capped well below it (`MAX_NAME_LENGTH` of
 * `@agola-ts/types`), so every entity stays addressable, paths of nested groups included.
 */
export const DEFAULT_MAX_PARAM_LENGTH = 2048;

export { DEFAULT_MAX_BODY_DEPTH } from './body-depth.js';

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
  /** Longest path parameter, in characters as sent (a longer one gets a 414). @default 2048 */
  maxParamLength?: number;
  /**
   * Deepest nesting of objects and arrays in a JSON body (a deeper one gets a 400
   * `ERR_SERVICE_BODY_TOO_DEEP` before it is parsed). @default 64
   */
  maxBodyDepth?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Node's code of a request that did not arrive in time (node's, not in our catalogue). */
const NODE_REQUEST_TIMEOUT = ['ERR', 'HTTP', 'REQUEST', 'TIMEOUT'].join('_');

function sendError(reply: FastifyReply, status: number, code: string, message: string): void {
  void reply.code(status).type(JSON_TYPE).send({ code, message });
}

/**
 * Errors fastify raises before routing (a bad URL, a too long path segment): the
 * `{code, message}` shape of every other error, without echoing the URL (it may hold tokens).
 */
function frameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    req.log.info({ status: 414 }, 'a path segment of the URL is too long');
    sendError(
      reply,
      414,
      ServiceKitErrorCodes.UrlTooLong,
      'a path segment of the URL is longer than the server routes',
    );
    return;
  }
  req.log.info({ status: 400, code: err.code }, 'the URL cannot be routed');
  sendError(reply, 400, ServiceKitErrorCodes.BadRequest, 'the URL is not valid');
}

/**
 * Answers a request node's HTTP parser refused (headers too large, a malformed message, a
 * timeout) with a JSON `{code, message}` and closes the connection. The raw request is never
 * logged (`rawPacket` holds its bytes, query values included).
 */
function clientError(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code: string = ServiceKitErrorCodes.BadRequest;
  let message = 'the request is not a valid HTTP request';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = ServiceKitErrorCodes.HeadersTooLarge;
    message = 'the request line and headers are larger than the server accepts';
  } else if (err.code === NODE_REQUEST_TIMEOUT) {
    status = 408;
    message = 'the request was not received in time';
  }
  this.log.debug({ status, code: err.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ code, message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: ${JSON_TYPE}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * A fastify server set up the way every service answers:
 * - logs through a child of the app's logger; every request has an id (the caller's
 *   `x-request-id`, else a new UUID) that is in its log lines and echoed in the response;
 * - JSON bodies up to `bodyLimit` (413 beyond) nesting at most `maxBodyDepth` levels (400
 *   `ERR_SERVICE_BODY_TOO_DEEP` beyond, checked before parsing);
 * - path segments up to `maxParamLength` (414 `ERR_SERVICE_URL_TOO_LONG` beyond), headers
 *   too large get 431 `ERR_SERVICE_HEADERS_TOO_LARGE`, all as JSON `{code, message}` that never
 *   echo the URL;
 * - log lines carry the path and the query keys, never query values;
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
    routerOptions: { maxParamLength: options.maxParamLength ?? DEFAULT_MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    genReqId: requestIdOf,
    logController: new LogController({
      requestIdLogLabel: 'reqId',
      disableRequestLogging: options.requestLogging === false,
    }),
  });
  const maxDepth = options.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH;
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepth(text, maxDepth) > maxDepth) {
      const err = new Error(`request body nests deeper than ${maxDepth} levels`) as Error & {
        code: string;
        statusCode: number;
      };
      err.code = ServiceKitErrorCodes.BodyTooDeep;
      err.statusCode = 400;
      done(err, undefined);
      return;
    }
    parseJson(req, text, done);
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
    const json = JSON_TYPE;
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

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toHttpError, type ErrorBody } from '@agola-ts/errors';
import { ServiceKitErrorCodes } from './codes.js';
import { loggableUrl } from './request-log.js';

/** A status and JSON body to answer a failed request with. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
}

/**
 * The response for an error a handler threw (or fastify raised while reading the request):
 * fastify's own request errors (body too large, bad JSON, wrong content type, schema
 * validation) become 413/400 with a message that says what is wrong; everything else goes
 * through `toHttpError` (status from the `ApiError` kind in the chain, 500 otherwise).
 */
export function errorResponse(err: unknown, req: FastifyRequest): ErrorResponse {
  return requestError(err, req) ?? toHttpError(err);
}

function requestError(err: unknown, req: FastifyRequest): ErrorResponse | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Partial<FastifyError>;
  if (e.code === ServiceKitErrorCodes.BodyTooDeep) {
    return bad(ServiceKitErrorCodes.BodyTooDeep, e.message ?? 'request body nests too deep');
  }
  if (e.validation !== undefined) {
    return bad(ServiceKitErrorCodes.InvalidBody, `invalid request: ${e.message ?? ''}`);
  }
  if (typeof e.code !== 'string' || !e.code.startsWith('FST_')) return undefined;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: {
          code: ServiceKitErrorCodes.BodyTooLarge,
          message: `request body is larger than the limit of ${req.routeOptions.bodyLimit} bytes`,
        },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return bad(
        ServiceKitErrorCodes.UnsupportedContentType,
        `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return bad(ServiceKitErrorCodes.InvalidBody, 'request body is empty: expected JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return bad(ServiceKitErrorCodes.InvalidBody, 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return bad(
        ServiceKitErrorCodes.InvalidBody,
        'request body length does not match its content-length',
      );
    default:
      // any other client error fastify raises (a bad url...): its own message is safe to show
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        return bad('ERR_BAD_REQUEST', e.message ?? 'bad request');
      }
      return undefined;
  }
}

function bad(code: string, message: string): ErrorResponse {
  return { status: 400, body: { code, message } };
}

/**
 * Fastify error handler of every service server: answers with {@link errorResponse} and
 * logs the whole error chain of a 500 (`log.error({ err })`), never sending it. 4xx errors
 * are logged at info level with their code. Log lines name the path and the query keys, never
 * the query values (they can be tokens).
 */
export function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorResponse(err, req);
  const url = loggableUrl(req.url);
  if (status >= 500) {
    req.log.error({ err }, `${req.method} ${url} failed`);
  } else {
    req.log.info({ status, code: body.code }, `${req.method} ${url}: ${body.message}`);
  }
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}

import type { FastifyInstance } from 'fastify';
import { DEFAULT_BODY_LIMIT, ServiceKitErrorCodes } from '@agola-ts/service-kit';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as a stream of any size and type (no JSON, no 1 MiB limit). */
    streamedBody?: boolean;
  }
}

/**
 * Request bodies of the API as Agola's clients send them: the web UI posts JSON without a
 * `Content-Type` (or as `text/plain`), and Agola reads every body as JSON, so such a body is
 * parsed as JSON here. A declared `Content-Length` above 1 MiB is refused before reading
 * (417, as Agola answers); a chunked body above it gets the service kit's 413.
 */
export function registerApiBodyHandling(api: FastifyInstance): void {
  api.addHook('onRequest', async (req, reply) => {
    // a route that streams its body (an import) has no size limit and no JSON
    if (req.routeOptions.config?.streamedBody === true) return;
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > DEFAULT_BODY_LIMIT) {
      // the body is not read: close the connection after the answer instead of draining it
      return reply
        .code(417)
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send({
          code: ServiceKitErrorCodes.BodyTooLarge,
          message: `request too large: the limit is ${DEFAULT_BODY_LIMIT} bytes`,
        });
    }
    const type = req.headers['content-type'];
    // only a request that carries a body: a body-less DELETE or PUT must not become an
    // "empty JSON body" error
    const hasBody =
      (length !== undefined && Number(length) > 0) ||
      req.headers['transfer-encoding'] !== undefined;
    if (
      hasBody &&
      (type === undefined || type === '' || type.toLowerCase().startsWith('text/plain'))
    ) {
      req.raw.headers['content-type'] = 'application/json';
    }
  });
}

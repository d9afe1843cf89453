import type { FastifyInstance } from 'fastify';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, DELETE';
const ALLOWED_HEADERS =
  'Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token';

/**
 * CORS as Agola's gateway does it: only when `allowedOrigins` is non-empty, only for those
 * origins (never `*`), methods GET/HEAD/POST/PUT/DELETE and the headers the web UI sends. A
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here with 200.
 */
export function registerCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  const origins = new Set(allowedOrigins);
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return;
    const preflight =
      req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!origins.has(origin)) {
      if (preflight) return reply.code(200).send();
      return;
    }
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (preflight) {
      return reply
        .code(200)
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .send();
    }
  });
}

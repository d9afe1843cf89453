import type { FastifyRequest } from 'fastify';

/**
 * A URL for logs: the path, and the query's keys with their values left out. Query values
 * can be secrets (`?query_type=bytoken&token=...`): they never reach a log line.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const keys = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=', 1)[0]}=…`);
  return `${url.slice(0, q)}?${keys.join('&')}`;
}

/** The `req` serializer of a service's logger: method, URL without query values, client. */
export function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: loggableUrl(req.url),
    remoteAddress: req.ip,
  };
}

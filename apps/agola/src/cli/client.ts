import type { Command } from 'commander';
import { createGatewayClient, type GatewayClient } from '@agola-ts/gateway-client';
import { globalsOf } from './global-options.js';

/**
 * A fetch that prints `agola debug: GET /api/v1alpha/orgs/acme -> 404 (12 ms)` on stderr for
 * each request: the method, the path (never the query, which may hold values) and the
 * status. Headers, and so the token, are never printed.
 */
export function debugFetch(
  inner: typeof globalThis.fetch = globalThis.fetch,
  write: (line: string) => void = (l) => process.stderr.write(l),
): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
    const method = init?.method ?? 'GET';
    const started = Date.now();
    try {
      const res = await inner(input, init);
      write(
        `agola debug: ${method} ${url.pathname} -> ${res.status} (${Date.now() - started} ms)\n`,
      );
      return res;
    } catch (err) {
      write(`agola debug: ${method} ${url.pathname} -> no answer (${Date.now() - started} ms)\n`);
      throw err;
    }
  };
}

/** Options of {@link clientFrom}. */
export interface ClientFromOptions {
  /** Fails a request with no complete answer after this many ms (0: never). @default 30000 */
  timeoutMs?: number;
  /** Cancels every request of the client. */
  signal?: AbortSignal;
}

/**
 * The gateway client of a command, from the global options: `--gateway-url` (or
 * `AGOLA_GATEWAY_URL`), `--token` (or `AGOLA_TOKEN`) and `--debug`.
 *
 * @example
 * ```ts
 * program.command('whoami').action(cliAction(async (_opts, cmd) => {
 *   const user = await clientFrom(cmd).getCurrentUser();
 *   writeOut(`${user.username}\n`);
 * }));
 * ```
 */
export function clientFrom(cmd: Command, options: ClientFromOptions = {}): GatewayClient {
  const g = globalsOf(cmd);
  return createGatewayClient({
    baseUrl: g.gatewayUrl,
    ...(g.token ? { token: g.token } : {}),
    ...(g.debug ? { fetch: debugFetch() } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

import type { FastifyInstance } from 'fastify';
import { wrap } from '@agola-ts/errors';
import { sleep } from '@agola-ts/etcd';
import { ServiceKitErrorCodes } from './codes.js';

/** Where a service listens. */
export interface ListenAddress {
  host: string;
  /** 0 picks a free port (kept for every later mode of a {@link runService}). */
  port: number;
}

/** Options of {@link listenWithRetry}. */
export interface ListenRetryOptions {
  signal: AbortSignal;
  /** How long to keep trying while the port is busy. @default 10000 */
  busyTimeoutMs?: number;
}

/**
 * Builds a server with `build` and makes it listen, retrying with a fresh server while the
 * port is busy (the server of the previous mode, or another process, may hold it for a
 * moment). Returns the listening server and its port.
 *
 * @throws `ERR_SERVICE_LISTEN` when the port stays busy or the address is invalid.
 */
export async function listenWithRetry(
  build: () => Promise<FastifyInstance>,
  address: ListenAddress,
  options: ListenRetryOptions,
): Promise<{ app: FastifyInstance; port: number }> {
  const deadline = Date.now() + (options.busyTimeoutMs ?? 10_000);
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const app = await build();
    try {
      await app.listen({ host: address.host, port: address.port });
      const bound = app.server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
      return { app, port };
    } catch (err) {
      await app.close();
      const busy = (err as { code?: unknown }).code === 'EADDRINUSE';
      if (!busy || Date.now() >= deadline || options.signal.aborted) {
        throw wrap(err, `listening on ${address.host}:${address.port}`, {
          code: ServiceKitErrorCodes.Listen,
        });
      }
      await sleep(delay, options.signal);
    }
  }
}

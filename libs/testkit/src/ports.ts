import { createServer } from 'node:net';

/**
 * A TCP port that is free on 127.0.0.1 right now (the OS picks it). Another process could
 * take it before it is used, so callers that start servers retry on a bind failure.
 */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

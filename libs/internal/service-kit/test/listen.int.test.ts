import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { is } from '@agola-ts/errors';
import { getFreePort } from '@agola-ts/testkit';
import { createServiceServer, listenWithRetry } from '../src/index.js';
import { createCapturingLogger } from './capture-logger.js';

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const build = async () =>
  createServiceServer({ logger: createCapturingLogger().logger, name: 't' });

describe('listenWithRetry', () => {
  it('waits for a port that is busy for a moment', async () => {
    const port = await getFreePort();
    const holder = await occupy(port);
    setTimeout(() => holder.close(), 300);
    const signal = new AbortController().signal;
    const { app, port: bound } = await listenWithRetry(
      build,
      { host: '127.0.0.1', port },
      { signal },
    );
    expect(bound).toBe(port);
    expect((await fetch(`http://127.0.0.1:${port}/x`)).status).toBe(404);
    await app.close();
  });

  it('fails with ERR_SERVICE_LISTEN when the port stays busy', async () => {
    const port = await getFreePort();
    const holder = await occupy(port);
    try {
      const signal = new AbortController().signal;
      await expect(
        listenWithRetry(build, { host: '127.0.0.1', port }, { signal, busyTimeoutMs: 200 }),
      ).rejects.toSatisfy(
        (err: Error) =>
          is(err, 'ERR_SERVICE_LISTEN') &&
          err.message.startsWith(`listening on 127.0.0.1:${port}: `) &&
          err.message.includes('EADDRINUSE'),
      );
    } finally {
      holder.close();
    }
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { expect } from 'vitest';
import type { WebhookRequest } from '../src/index.js';

/** One request a {@link Receiver} got. */
export interface Received extends WebhookRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

/** A real HTTP server standing in for the gateway's `/webhooks` endpoint. */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? '' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/webhooks?agolaid=agola&projectid=p1`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
export async function caught(
  fn: () => unknown,
): Promise<{ code: string; status?: number; message: string }> {
  try {
    await fn();
  } catch (err) {
    return err as { code: string; status?: number; message: string };
  }
  expect.fail('expected an error');
}

/** An OpenSSH-looking public key (the forge stores keys as text). */
export function fakeKey(n: number): string {
  return `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${String(n).padStart(6, '0')}xyz agola`;
}

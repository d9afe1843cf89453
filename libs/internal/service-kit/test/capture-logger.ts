import { pino } from 'pino';
import { createErrorSerializer } from '@agola-ts/errors';
import type { ServiceLogger } from '../src/index.js';

/** A pino logger that keeps every line (parsed) for assertions. */
export function createCapturingLogger(): {
  logger: ServiceLogger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug', serializers: { err: createErrorSerializer({ detailed: true }) } },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** Polls `check` until it stops throwing (or the timeout passes, then rethrows). */
export async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

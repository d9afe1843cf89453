import { describe, expect, test } from 'vitest';
import { runGroup } from './run-group.js';

const waitAbort = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

describe('runGroup', () => {
  test('the first error wins, stops the others, and nothing hangs', async () => {
    const events: string[] = [];
    const started = Date.now();
    const err = await runGroup(undefined, [
      async (s) => {
        await waitAbort(s); // a handler blocked until told to stop
        events.push('blocked handler stopped');
      },
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('first');
      },
      async () => {
        await new Promise((r) => setTimeout(r, 40));
        // fails after the group already failed: its error is dropped, never waits on anyone
        throw new Error('second');
      },
    ]).catch((e: unknown) => e);
    expect((err as Error).message).toBe('first');
    expect(events).toEqual(['blocked handler stopped']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('many failing handlers at once: one error, no hang', async () => {
    const err = await runGroup(
      undefined,
      Array.from({ length: 100 }, (_, i) => async () => {
        throw new Error(`e${i}`);
      }),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('e0');
  });

  test('the parent signal stops every task; no error', async () => {
    const ac = new AbortController();
    const p = runGroup(ac.signal, [(s) => waitAbort(s), (s) => waitAbort(s)]);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });

  test('non-Error throwables become errors', async () => {
    await expect(runGroup(undefined, [() => Promise.reject('text')])).rejects.toThrow('text');
  });
});

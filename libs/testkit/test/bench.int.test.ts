import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { readPeakRss, runLoad } from '../src/bench.js';
import { TestkitErrorCodes } from '../src/codes.js';

// a tiny server: 200 on /ok/*, 404 elsewhere; counts paths and a header
let server: Server;
let origin = '';
const seenPaths = new Map<string, number>();
const seenTokens = new Set<string>();
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    seenPaths.set(path, (seenPaths.get(path) ?? 0) + 1);
    const token = req.headers['x-token'];
    if (typeof token === 'string') seenTokens.add(token);
    res.statusCode = path.startsWith('/ok') ? 200 : 404;
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('runLoad against a local server', () => {
  test('one URL with headers: requests counted, no errors, RSS and CPU measured', async () => {
    seenPaths.clear();
    const r = await runLoad({
      url: `${origin}/ok/one`,
      connections: 2,
      durationSeconds: 1,
      headers: { 'x-token': 'abc' },
      sampleRssMs: 20,
    });
    expect(r.perSecond).toBeGreaterThan(0);
    expect(r.errors).toBe(0);
    expect(r.p99).toBeGreaterThanOrEqual(r.p50);
    // autocannon's average is over its one-second samples (the last one cut short, so it can
    // come out a few requests above what was sent): the server saw about that many
    expect(seenPaths.get('/ok/one')).toBeGreaterThanOrEqual(Math.floor(r.perSecond * 0.95));
    expect(seenTokens).toEqual(new Set(['abc']));
    expect(r.peakRssBytes).toBeGreaterThan(0);
    expect(r.cpuMicrosPerRequest).toBeGreaterThan(0);
  });

  test('paths: every path is requested; non-2xx answers are errors', async () => {
    seenPaths.clear();
    const paths = ['/ok/a', '/ok/b', '/ok/c', '/missing'];
    const r = await runLoad({ url: origin, connections: 3, durationSeconds: 1, paths });
    expect([...seenPaths.keys()].sort()).toEqual([...paths].sort());
    expect(r.non2xx).toBeGreaterThan(0);
    expect(r.errors).toBe(r.non2xx + r.socketErrors + r.timeouts);
    expect(r.peakRssBytes).toBeUndefined();
  });

  test('refused connections are errors; an autocannon failure is ERR_TESTKIT_LOAD_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await runLoad({
      url: `http://127.0.0.1:${port}/`,
      connections: 1,
      durationSeconds: 1,
    });
    expect(refused.socketErrors).toBeGreaterThan(0);
    expect(refused.errors).toBeGreaterThan(0);
    const err = await runLoad({ url: origin, connections: 0, durationSeconds: 1 }).catch(
      (e: unknown) => e,
    );
    expect(is(err, TestkitErrorCodes.LoadFailed)).toBe(true);
    expect((err as Error).message).toContain('connections can not be less than 1');
  });

  test('an abort kills the load process', async () => {
    const ac = new AbortController();
    const t = Date.now();
    setTimeout(() => ac.abort(new Error('stop now')), 300);
    await expect(
      runLoad({ url: `${origin}/ok/x`, connections: 1, durationSeconds: 20, signal: ac.signal }),
    ).rejects.toThrow('stop now');
    expect(Date.now() - t).toBeLessThan(15_000);
  });
});

test('readPeakRss reads VmHWM of a live process, undefined for a gone one', async () => {
  const peak = await readPeakRss();
  expect(peak).toBeGreaterThanOrEqual(process.memoryUsage.rss() / 2);
  expect(await readPeakRss(2 ** 22 + 12345)).toBeUndefined();
});

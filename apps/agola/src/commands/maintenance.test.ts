import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayClient } from '@agola-ts/gateway-client';
import { waitForMaintenanceMode } from './maintenance.js';

// The wait against a real HTTP server that answers the gateway's status route with a script
// of answers (the integration test covers a real switch; these cover what a real service
// does not do on demand: never switch, fail for a while, switch back meanwhile).

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A gateway whose `GET /maintenance/configstore` gives the answers in turn (the last repeats). */
async function gateway(answers: { status: number; body: unknown }[]) {
  let i = 0;
  const paths: string[] = [];
  server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const a = answers[Math.min(i++, answers.length - 1)]!;
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { gw: createGatewayClient({ baseUrl: `http://127.0.0.1:${port}` }), paths };
}

const status = (requested: boolean, current: boolean) => ({
  status: 200,
  body: { requested_status: requested, current_status: current },
});
const unavailable = { status: 503, body: { code: 'ERR_SERVICE_UNAVAILABLE', message: 'starting' } };

describe('waitForMaintenanceMode', () => {
  it('waits through 5xx answers and the old mode until the new mode is served', async () => {
    const { gw, paths } = await gateway([
      status(true, false),
      unavailable,
      unavailable,
      status(true, true),
    ]);
    const seen: string[] = [];
    await waitForMaintenanceMode(gw, 'configstore', true, 10_000, {
      onWait: (last) => seen.push(last),
    });
    expect(paths).toEqual(Array(4).fill('GET /api/v1alpha/maintenance/configstore'));
    expect(seen[0]).toBe('it still serves normal mode, maintenance mode requested');
    expect(seen[1]).toMatch(/^last answer: .*503/);
  });

  it('gives up after the timeout with ERR_AGOLA_CLI_TIMEOUT and what was reported last', async () => {
    const { gw } = await gateway([status(false, true)]);
    const err = await waitForMaintenanceMode(gw, 'configstore', false, 600).catch((e) => e);
    expect(err).toMatchObject({ code: 'ERR_AGOLA_CLI_TIMEOUT' });
    expect(String(err.message)).toBe(
      'configstore did not switch to normal mode within 1 s (it still serves maintenance mode, normal mode requested); see its /health and log, or wait longer with --timeout',
    );
  });

  it('stops at once on a 4xx, and when the other mode is requested meanwhile', async () => {
    const forbidden = await gateway([
      { status: 403, body: { code: 'ERR_GATEWAY_FORBIDDEN', message: 'admin required' } },
    ]);
    const err = await waitForMaintenanceMode(forbidden.gw, 'configstore', true, 10_000).catch(
      (e) => e,
    );
    expect(String(err.message)).toContain('waiting for configstore to serve maintenance mode');
    expect(forbidden.paths).toHaveLength(1);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;

    const flipped = await gateway([status(false, false)]);
    const err2 = await waitForMaintenanceMode(flipped.gw, 'configstore', true, 10_000).catch(
      (e) => e,
    );
    expect(err2).toMatchObject({ code: 'ERR_AGOLA_CLI_FAILED' });
    expect(flipped.paths).toHaveLength(1);
  });
});

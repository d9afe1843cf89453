import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';

/** The version the gateway reports on `GET /version`. */
export const GATEWAY_VERSION = '0.1.0';

/** `GET /version` (no auth): `{ service: 'gateway', version }`, as Agola answers. */
export function registerVersionRoutes(api: FastifyInstance, _ctx: GatewayContext): void {
  api.get('/version', async () => ({ service: 'gateway', version: GATEWAY_VERSION }));
}

import { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import { requireAdmin } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import { param } from '../request.js';

/** The services with a datamanager, whose data can be exported and imported. */
export const MAINTAINABLE_SERVICES = ['configstore', 'runservice'] as const;

/** One of {@link MAINTAINABLE_SERVICES}. */
export type MaintainableService = (typeof MAINTAINABLE_SERVICES)[number];

interface ServiceMaintenance {
  enableMaintenance(options?: { signal?: AbortSignal }): Promise<void>;
  disableMaintenance(options?: { signal?: AbortSignal }): Promise<void>;
  getMaintenanceStatus(options?: {
    signal?: AbortSignal;
  }): Promise<{ requested_status: boolean; current_status: boolean }>;
  export(options?: { signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>>;
  import(
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
}

function serviceOf(ctx: GatewayContext, req: FastifyRequest): ServiceMaintenance {
  const name = param(req, 'servicename');
  switch (name) {
    case 'configstore':
      return ctx.configstore;
    case 'runservice':
      return ctx.runservice;
    default:
      throw badRequest(
        `invalid service name ${JSON.stringify(name.slice(0, 64))}: must be one of ${MAINTAINABLE_SERVICES.join(', ')}`,
        { code: GatewayErrorCodes.InvalidRequest },
      );
  }
}

/** Aborted when the caller's connection closes before the answer is complete. */
function abortSignalOf(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

/**
 * The admin routes of maintenance, export and import (later Agola versions have them; v0.7.1
 * has only the services' own): for `servicename` = `configstore` or `runservice`,
 * - `PUT /maintenance/{servicename}`, `DELETE /maintenance/{servicename}`: enter or leave the
 *   service's maintenance mode (200, no body; the service's 400 when already in that state);
 * - `GET /maintenance/{servicename}`: the service's `{ requested_status, current_status }`
 *   (the mode is asked for / served: the service switches a moment after the request);
 * - `GET /export/{servicename}`: the service's export, streamed through (a break downstream
 *   aborts the answer, so a caller never sees a complete-looking truncated export);
 * - `POST /import/{servicename}`: the request body (any content type, any size, not
 *   buffered) streamed to the service's import; 204 when done (400 outside maintenance).
 *
 * Only the admin token (or an admin user) may call them: 401 anonymous, 403 for a user.
 */
export async function registerMaintenanceRoutes(
  api: FastifyInstance,
  ctx: GatewayContext,
): Promise<void> {
  // the import body must stay a stream: its own scope gets a pass-through parser
  await api.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    scope.put('/maintenance/:servicename', async (req, reply) => {
      requireAdmin(req);
      const service = serviceOf(ctx, req);
      try {
        await service.enableMaintenance();
      } catch (err) {
        throw passThrough(err);
      }
      return reply.code(200).send();
    });

    scope.delete('/maintenance/:servicename', async (req, reply) => {
      requireAdmin(req);
      const service = serviceOf(ctx, req);
      try {
        await service.disableMaintenance();
      } catch (err) {
        throw passThrough(err);
      }
      return reply.code(200).send();
    });

    scope.get('/maintenance/:servicename', async (req) => {
      requireAdmin(req);
      const service = serviceOf(ctx, req);
      try {
        const s = await service.getMaintenanceStatus();
        return { requested_status: s.requested_status, current_status: s.current_status };
      } catch (err) {
        throw passThrough(err);
      }
    });

    scope.get('/export/:servicename', async (req, reply) => {
      requireAdmin(req);
      const service = serviceOf(ctx, req);
      let stream: ReadableStream<Uint8Array>;
      try {
        stream = await service.export({ signal: abortSignalOf(reply.raw) });
      } catch (err) {
        throw passThrough(err);
      }
      return reply
        .type('application/octet-stream')
        .send(Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>));
    });

    scope.post('/import/:servicename', { config: { streamedBody: true } }, async (req, reply) => {
      requireAdmin(req);
      const service = serviceOf(ctx, req);
      // without a body (no content type) fastify gives no payload: read the raw request
      const body = (req.body ?? req.raw) as Readable;
      try {
        await service.import(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
          signal: abortSignalOf(reply.raw),
        });
      } catch (err) {
        // refused before the whole body was read: discard the rest and close the connection
        // after the answer, so neither side waits on an upload nobody reads
        void reply.header('connection', 'close');
        body.resume();
        throw passThrough(err);
      }
      return reply.code(204).send();
    });
  });
}

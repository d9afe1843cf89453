import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import {
  DataManagerErrorCodes,
  isMaintenanceEnabled,
  setMaintenanceMode,
  type ServiceMode,
} from '@agola-ts/datamanager';
import type { EtcdClient } from '@agola-ts/etcd';
import { noContent } from './replies.js';

/** What the export and import routes need: a `DataManager` fits. */
export interface ExportImportSource {
  /** A stream of the service's data in Agola's export format. */
  export(options: { signal?: AbortSignal }): Promise<Readable>;
  /** Replaces the service's data with an export stream (maintenance mode only). */
  import(input: AsyncIterable<Uint8Array>, options: { signal?: AbortSignal }): Promise<unknown>;
}

/** Options of {@link maintenanceRoutes}. */
export interface MaintenanceRoutesOptions {
  /** The service's etcd client (its prefix holds the maintenance key). */
  etcd: EtcdClient;
  /** The data to export and import. */
  data: ExportImportSource;
  /** The mode of the router these routes are mounted in. */
  mode: ServiceMode;
}

/**
 * The maintenance routes every service with a datamanager mounts (a fastify plugin; register
 * it under `API_PREFIX` in both routers):
 * - `PUT /maintenance`, `DELETE /maintenance`: enable or disable maintenance mode, 200 with
 *   no body; 400 `ERR_DATAMANAGER_MAINTENANCE_STATE` when already in that state;
 * - `GET /maintenance`: `{ requested_status, current_status }` (as later Agola versions): the
 *   maintenance key is set / this router is the maintenance one. The service switches a
 *   moment after the key changes, so `current_status` follows `requested_status`;
 * - `GET /export`: streams the export; if it fails after the first bytes, the connection is
 *   aborted, so the client sees a truncated response, never a complete-looking one;
 * - `POST /import`: the request body (any content type, not buffered, no body limit) is
 *   streamed into `data.import`; 204 when done. In normal mode it answers 400
 *   `ERR_DATAMANAGER_NOT_IN_MAINTENANCE`, as Agola's.
 *
 * Its raw body parser stays inside the plugin: the service's JSON routes are not affected.
 *
 * @example
 * ```ts
 * await api.register(maintenanceRoutes, { etcd, data: dataManager, mode: ctx.mode });
 * ```
 */
export async function maintenanceRoutes(
  app: FastifyInstance,
  options: MaintenanceRoutesOptions,
): Promise<void> {
  const { etcd, data, mode } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.put('/maintenance', async (_req, reply) => {
    await setMaintenanceMode(etcd, true);
    return reply.code(200).send();
  });
  app.delete('/maintenance', async (_req, reply) => {
    await setMaintenanceMode(etcd, false);
    return reply.code(200).send();
  });

  app.get('/maintenance', async () => ({
    requested_status: await isMaintenanceEnabled(etcd),
    current_status: mode === 'maintenance',
  }));

  app.get('/export', async (_req, reply) => {
    const stream = await data.export({ signal: abortSignalOf(reply.raw) });
    return reply.type('application/octet-stream').send(stream);
  });

  app.post('/import', async (req, reply) => {
    if (mode !== 'maintenance') {
      throw badRequest('import is only allowed in maintenance mode', {
        code: DataManagerErrorCodes.NotInMaintenance,
      });
    }
    // without a body (no content type) fastify gives no payload: read the raw request
    const body = (req.body ?? req.raw) as AsyncIterable<Uint8Array>;
    await data.import(body, { signal: abortSignalOf(reply.raw) });
    return noContent(reply);
  });
}

/** Aborted when the connection closes before the response is complete. */
function abortSignalOf(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

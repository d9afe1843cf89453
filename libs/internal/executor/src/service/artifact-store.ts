import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RemoteError } from '@agola-ts/errors';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type { ArtifactStore } from '../steps/context.js';

function isNotFound(err: unknown): boolean {
  return err instanceof RemoteError && err.status === 404;
}

/**
 * An {@link ArtifactStore} on the runservice API: workspace archives from
 * `GET /executor/archives`, caches through `HEAD/GET/POST /executor/caches/{key}`. A cache
 * is first written to `tmpFile` so it is uploaded with its Content-Length, as Agola does.
 */
export function createRunserviceArtifactStore(
  client: RunserviceClient,
  tmpFile: () => string,
): ArtifactStore {
  return {
    async getArchive(taskId, step, o) {
      return Readable.from([Buffer.from(await client.getArchive(taskId, step, o))]);
    },
    headCache: (key, o) => client.hasCache(key, false, o),
    async getCache(prefix, o) {
      try {
        return Readable.from([Buffer.from(await client.getCache(prefix, true, o))]);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async putCache(key, archive, o) {
      const file = tmpFile();
      try {
        await pipeline(archive, createWriteStream(file), o?.signal ? { signal: o.signal } : {});
        const { size } = await stat(file);
        const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
        const result = await client.putCache(key, body, { size, ...o });
        return result === 'exists' ? 'exists' : 'saved';
      } finally {
        await rm(file, { force: true });
      }
    },
  };
}

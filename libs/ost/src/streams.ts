import { addAbortSignal, Readable, Transform, type TransformCallback } from 'node:stream';
import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';

/** True for a Node readable stream (or anything stream-like with `pipe` and `on`). */
export function isReadableStream(value: unknown): value is Readable {
  return (
    value instanceof Readable ||
    (value !== null &&
      typeof value === 'object' &&
      typeof (value as { pipe?: unknown }).pipe === 'function' &&
      typeof (value as { on?: unknown }).on === 'function')
  );
}

/** Fails a stream that yields more or fewer bytes than `size`. */
export function sizeGuard(size: number, key: string): Transform {
  let seen = 0;
  const mismatch = (got: string): Error =>
    newError(`writing ${JSON.stringify(key)}: data is ${got} bytes, size says ${size}`, {
      code: OstErrorCodes.SizeMismatch,
    });
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > size) cb(mismatch(`more than ${size}`));
      else cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      cb(seen === size ? null : mismatch(String(seen)));
    },
  });
}

/**
 * Makes `source` emit its errors through `mapError` (so a consumer sees our error codes, not
 * the backend's) and lets a `signal` cancel it. The stream itself is returned, not a copy:
 * a wrapper stream re-pushing every chunk cost a third of the read throughput. Node emits a
 * stream's error from the callback of its `_destroy`, which is where the mapping happens.
 */
export function guardReadable(
  source: Readable,
  mapError: (err: unknown) => Error,
  signal?: AbortSignal,
): Readable {
  const original = source._destroy.bind(source);
  source._destroy = (err: Error | null, cb: (error?: Error | null) => void) => {
    original(err, (e?: Error | null) => cb(e ? mapError(e) : e));
  };
  if (signal) addAbortSignal(signal, source);
  return source;
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A readable stream of one buffer (cheaper than `Readable.from`, which iterates). */
export function bufferReadable(buffer: Buffer): Readable {
  // Everything is pushed up front, so `read` has nothing to do.
  const stream = new Readable({ read: () => undefined });
  if (buffer.length > 0) stream.push(buffer);
  stream.push(null);
  return stream;
}

/** An empty readable stream. */
export function emptyReadable(): Readable {
  return bufferReadable(Buffer.alloc(0));
}

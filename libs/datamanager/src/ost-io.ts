import type { ObjectStorage } from '@agola-ts/ost';
import { isNotExist } from '@agola-ts/ost';

/** Reads a whole object into memory. */
export async function readObject(
  ost: ObjectStorage,
  key: string,
  options: { start?: number; end?: number; signal?: AbortSignal } = {},
): Promise<Buffer> {
  const stream = await ost.read(key, options);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // one chunk is the object: no copy
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Reads a whole object, or undefined when it does not exist. */
export async function readObjectIfExists(
  ost: ObjectStorage,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<Buffer | undefined> {
  try {
    return await readObject(ost, key, options);
  } catch (err) {
    if (isNotExist(err)) return undefined;
    throw err;
  }
}

/** Deletes an object; a missing one is fine (cleaners race with each other harmlessly). */
export async function deleteIfExists(
  ost: ObjectStorage,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  try {
    await ost.delete(key, options);
  } catch (err) {
    if (!isNotExist(err)) throw err;
  }
}

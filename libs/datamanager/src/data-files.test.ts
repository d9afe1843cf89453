import { Readable } from 'node:stream';
import { createMemoryStorage, type ObjectStorage } from '@agola-ts/ost';
import { describe, expect, it } from 'vitest';
import { DataFileWriter, dataFileEntries, readDataFileEntries } from './data-files.js';
import { DataManagerErrorCodes } from './codes.js';
import { readObject } from './ost-io.js';
import { ostPaths } from './paths.js';
import type { DataEntry } from './types.js';

const entries: DataEntry[] = Array.from({ length: 50 }, (_, i) => ({
  id: `id-${String(i).padStart(3, '0')}`,
  dataType: 'user',
  data: Buffer.from(JSON.stringify({ n: i, s: '}{"\\' })),
}));

/** The storage, with every read cut into chunks of `size` bytes. */
function chunked(ost: ObjectStorage, size: number): ObjectStorage {
  return {
    ...ost,
    read: async (key, options) => {
      const whole = await readObject(ost, key, options ?? {});
      const parts: Buffer[] = [];
      for (let i = 0; i < whole.length; i += size) parts.push(whole.subarray(i, i + size));
      return Readable.from(parts);
    },
  };
}

async function writeOneFile() {
  const ost = createMemoryStorage();
  const w = new DataFileWriter({
    ost,
    dataType: 'user',
    dataSequence: 's1',
    maxDataFileSize: 1 << 20,
  });
  for (const e of entries) await w.add(e);
  await w.flush();
  expect(w.files).toHaveLength(1);
  return { ost, fileId: w.files[0]!.id };
}

describe('readDataFileEntries', () => {
  it('decodes the entries of a file as written', async () => {
    const { ost, fileId } = await writeOneFile();
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
  });

  it('does not need the index: missing or wrong, the entries are the same', async () => {
    const { ost, fileId } = await writeOneFile();
    await ost.write(ostPaths.dataIndex('user', fileId), JSON.stringify({ index: { x: 1 << 30 } }));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
    await ost.delete(ostPaths.dataIndex('user', fileId));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
  });

  it('scans the rest of a file from the first line that is not one entry as written', async () => {
    const { ost, fileId } = await writeOneFile();
    const key = ostPaths.dataFile('user', fileId);
    const lines = (await readObject(ost, key)).toString().split('\n');
    const reshaped = (line: string) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify({ data: o['data'], data_type: o['data_type'], id: o['id'] }, null, 1);
    };
    // ten entries as written, two on one line, one pretty-printed over several lines in
    // another field order, a blank line, then the rest as written again
    const text = [
      ...lines.slice(0, 10),
      lines[10]! + lines[11]!,
      reshaped(lines[12]!),
      '',
      ...lines.slice(13),
    ].join('\n');
    await ost.write(key, text);
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
    // and a file with no newline at all
    await ost.write(key, lines.join(''));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
  });

  it('decodes the same from any chunking of the file, a line across chunks included', async () => {
    const { ost, fileId } = await writeOneFile();
    const key = ostPaths.dataFile('user', fileId);
    const lines = (await readObject(ost, key)).toString().split('\n');
    const asWritten = lines.join('\n');
    // the same file with its second half in another layout: scanned from there
    const mixed = [...lines.slice(0, 25), lines[25]! + lines[26]!, ...lines.slice(27)].join('\n');
    for (const text of [asWritten, mixed]) {
      await ost.write(key, text);
      for (const size of [1, 7, 64, 100, 333, 1000, text.length]) {
        expect(await readDataFileEntries(chunked(ost, size), 'user', fileId)).toEqual(entries);
      }
    }
  });

  it("cuts the entries' data from one buffer per file, zero-filled beyond them", async () => {
    const { ost, fileId } = await writeOneFile();
    const read = await readDataFileEntries(ost, 'user', fileId);
    const buffers = new Set(read.map((e) => e.data.buffer));
    expect(buffers.size).toBe(1);
    const [whole] = buffers;
    const used = read.reduce((n, e) => n + e.data.length, 0);
    const rest = Buffer.from(whole!, read[0]!.data.byteOffset + used);
    expect(rest.every((b) => b === 0)).toBe(true);
  });

  it('fails with ERR_DATAMANAGER_CORRUPT on a damaged data file', async () => {
    const { ost, fileId } = await writeOneFile();
    const data = await readObject(ost, ostPaths.dataFile('user', fileId));
    await ost.write(ostPaths.dataFile('user', fileId), data.subarray(0, data.length - 10));
    await expect(readDataFileEntries(ost, 'user', fileId)).rejects.toMatchObject({
      code: DataManagerErrorCodes.Corrupt,
    });
  });

  it('decodes each entry when it is reached: a damaged entry fails there, after the earlier ones', async () => {
    const { ost, fileId } = await writeOneFile();
    const key = ostPaths.dataFile('user', fileId);
    const text = (await readObject(ost, key)).toString();
    // the last entry's data is no longer a string (its length is unchanged: the index holds)
    const lines = text.split('\n');
    lines[lines.length - 2] = lines[lines.length - 2]!.replace('"data":"', '"data":1');
    await ost.write(key, lines.join('\n'));
    const seen: string[] = [];
    const iterate = async () => {
      for (const e of await dataFileEntries(ost, 'user', fileId)) seen.push(e.id);
    };
    await expect(iterate()).rejects.toMatchObject({ code: DataManagerErrorCodes.Corrupt });
    expect(seen).toEqual(entries.slice(0, -1).map((e) => e.id));
  });
});

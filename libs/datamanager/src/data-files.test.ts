import { createMemoryStorage } from '@agola-ts/ost';
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
  it('cuts the entries at the offsets of the index', async () => {
    const { ost, fileId } = await writeOneFile();
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
  });

  it('scans the file when the index is missing', async () => {
    const { ost, fileId } = await writeOneFile();
    await ost.delete(ostPaths.dataIndex('user', fileId));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
  });

  it('scans the file when the index names other ids or offsets', async () => {
    const { ost, fileId } = await writeOneFile();
    // the ids of two entries swapped: each cut decodes, but not to the id the index names
    const index = JSON.parse(
      (await readObject(ost, ostPaths.dataIndex('user', fileId))).toString(),
    ) as { index: Record<string, number> };
    const a = index.index['id-001']!;
    index.index['id-001'] = index.index['id-002']!;
    index.index['id-002'] = a;
    await ost.write(ostPaths.dataIndex('user', fileId), JSON.stringify(index));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
    // offsets past the end of the file, and an index that is not JSON
    await ost.write(ostPaths.dataIndex('user', fileId), JSON.stringify({ index: { x: 1 << 30 } }));
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
    await ost.write(ostPaths.dataIndex('user', fileId), 'not json');
    expect(await readDataFileEntries(ost, 'user', fileId)).toEqual(entries);
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

import { randomUUID } from 'node:crypto';
import { newError, wrap } from '@agola-ts/errors';
import type { ObjectStorage } from '@agola-ts/ost';
import { DataManagerErrorCodes } from './codes.js';
import {
  decodeCanonicalDataEntry,
  decodeDataEntry,
  decodeDataIndex,
  decodeDataStatus,
  encodeDataEntry,
  encodeDataIndex,
  splitJsonObjects,
  type DataArena,
} from './encoding.js';
import { readObject } from './ost-io.js';
import { DATA_STATUS_RE, ostPaths } from './paths.js';
import type { DataEntry, DataFileRef, DataStatus } from './types.js';

/** The sequences of every data status in the storage, oldest first. */
export async function listDataStatusSequences(
  ost: ObjectStorage,
  signal?: AbortSignal,
): Promise<string[]> {
  const seqs: string[] = [];
  for await (const obj of ost.list(ostPaths.dataDir, { signal })) {
    const m = DATA_STATUS_RE.exec(obj.key.slice(ostPaths.dataDir.length));
    if (m) seqs.push(m[1]!);
  }
  return seqs;
}

/** Reads one data status. */
export async function readDataStatus(
  ost: ObjectStorage,
  dataSeq: string,
  signal?: AbortSignal,
): Promise<DataStatus> {
  const key = ostPaths.dataStatus(dataSeq);
  return decodeDataStatus(await readObject(ost, key, { signal }), key);
}

/** The latest data status, or undefined when there is no snapshot yet. */
export async function latestDataStatus(
  ost: ObjectStorage,
  signal?: AbortSignal,
): Promise<DataStatus | undefined> {
  const seqs = await listDataStatusSequences(ost, signal);
  const last = seqs[seqs.length - 1];
  return last === undefined ? undefined : readDataStatus(ost, last, signal);
}

/** An entry of a data file as stored: its id and its encoded bytes (one JSON object). */
export interface RawEntry {
  id: string;
  bytes: Buffer;
}

const ID_PREFIX = Buffer.from('{"id":"');
const NEWLINE = Buffer.from('\n');
const NEWLINE_BYTE = 0x0a;

/**
 * The id of an encoded entry without decoding its (large) data: entries start with
 * `{"id":"...` in ours and in Agola's files; anything else is fully decoded.
 */
function rawEntryId(bytes: Buffer, what: string): string {
  if (bytes.subarray(0, ID_PREFIX.length).equals(ID_PREFIX)) {
    for (let i = ID_PREFIX.length; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c === 0x5c) {
        i++;
        continue;
      }
      if (c === 0x22)
        return JSON.parse(bytes.subarray(ID_PREFIX.length - 1, i + 1).toString()) as string;
    }
  }
  return decodeDataEntry(bytes, what).id;
}

/**
 * Reads the entries of a data file as stored, decoding only their ids: a checkpoint copies
 * the entries it does not change byte for byte.
 */
export async function readRawDataFile(
  ost: ObjectStorage,
  dataType: string,
  fileId: string,
  signal?: AbortSignal,
): Promise<RawEntry[]> {
  const key = ostPaths.dataFile(dataType, fileId);
  const buf = await readObject(ost, key, { signal });
  return splitJsonObjects(buf, key).map(([s, e]) => {
    const bytes = buf.subarray(s, e);
    return { id: rawEntryId(bytes, key), bytes };
  });
}

/**
 * Reads and decodes every entry of a data file (see {@link dataFileEntries}, which yields
 * them one at a time).
 */
export async function readDataFileEntries(
  ost: ObjectStorage,
  dataType: string,
  fileId: string,
  signal?: AbortSignal,
): Promise<DataEntry[]> {
  return [...(await dataFileEntries(ost, dataType, fileId, signal))];
}

/**
 * Reads a data file and returns its entries as an iterable that decodes each one when it is
 * reached, for a full sync: a follower decodes the next entries while sqlite inserts the
 * previous ones (on its thread pool), and only the file's bytes are held, not every decoded
 * entry. Ours and Agola's files hold one entry a line in one layout, so each line is decoded
 * without JSON.parse and its data decoded into one buffer for the whole file (see
 * {@link decodeCanonicalDataEntry}); the lines are cut from the chunks as read (only a line
 * that spans two chunks is copied), and from the first line that is not one such entry on,
 * the rest of the file is scanned as concatenated JSON objects and decoded with JSON.parse.
 * (The file's index is not read: cutting at newlines is a native search, faster than parsing
 * it.)
 *
 * @throws `ERR_DATAMANAGER_CORRUPT` (when iterating) on an entry that does not decode.
 */
export async function dataFileEntries(
  ost: ObjectStorage,
  dataType: string,
  fileId: string,
  signal?: AbortSignal,
): Promise<Iterable<DataEntry>> {
  const key = ostPaths.dataFile(dataType, fileId);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await ost.read(key, { signal })) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return (function* () {
    // base64 is 4 characters for 3 bytes: the data of every entry fits
    const arena: DataArena = { buf: Buffer.alloc(Math.ceil((size * 3) / 4)), used: 0 };
    for (const [i, chunk] of chunks.entries()) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(NEWLINE_BYTE, start);
        if (newline < 0 && i < chunks.length - 1) {
          // the line goes on in the next chunk: it is decoded from a copy of its two parts
          const next = chunks[i + 1]!;
          const end = next.indexOf(NEWLINE_BYTE);
          if (end < 0) break; // a line longer than a chunk: left to the scan
          const line = Buffer.concat([chunk.subarray(start), next.subarray(0, end + 1)]);
          const entry = decodeCanonicalDataEntry(line, 0, line.length, arena);
          if (!entry) break;
          yield entry;
          chunks[i + 1] = next.subarray(end + 1);
          start = chunk.length;
          continue;
        }
        const end = newline < 0 ? chunk.length : newline + 1;
        const entry = decodeCanonicalDataEntry(chunk, start, end, arena);
        if (!entry) break;
        yield entry;
        start = end;
      }
      if (start < chunk.length) {
        // the lines before were whole entries: the scan starts at an entry's start
        const rest = Buffer.concat([chunk.subarray(start), ...chunks.slice(i + 1)]);
        for (const [s, e] of splitJsonObjects(rest, key)) {
          yield decodeDataEntry(rest.subarray(s, e), key);
        }
        return;
      }
    }
  })();
}

/** The file of a type's file list that holds (or would hold) `id`. */
export function fileForId(files: DataFileRef[], id: string): DataFileRef | undefined {
  return files.find((f) => f.lastEntryId >= id) ?? files[files.length - 1];
}

interface EntryRange {
  start: number;
  /** Exclusive end; undefined for the last entry (read to the end of the file). */
  end: number | undefined;
}

/**
 * Reads single entries of data files through their indexes. Data files never change once
 * written (a checkpoint writes new ones), so parsed indexes are cached by file id, and a
 * read is one ranged read of the entry's bytes (Agola parses the JSON index on every read).
 */
export class DataFileReader {
  private readonly cache = new Map<string, Map<string, EntryRange>>();
  private readonly loading = new Map<string, Promise<Map<string, EntryRange>>>();

  constructor(
    private readonly ost: ObjectStorage,
    /** How many file indexes to keep in memory. */
    private readonly maxCachedIndexes = 256,
  ) {}

  /** Reads one entry, or undefined when the file has no entry with this id. */
  async readEntry(
    dataType: string,
    fileId: string,
    id: string,
    signal?: AbortSignal,
  ): Promise<DataEntry | undefined> {
    const index = await this.index(dataType, fileId, signal);
    const range = index.get(id);
    if (!range) return undefined;
    const key = ostPaths.dataFile(dataType, fileId);
    const bytes = await readObject(this.ost, key, {
      start: range.start,
      ...(range.end !== undefined ? { end: range.end } : {}),
      signal,
    });
    const entry = decodeDataEntry(bytes, `${key} at ${range.start}`);
    if (entry.id !== id || entry.dataType !== dataType) {
      throw newError(`${key}: index points at entry ${entry.id}, expected ${id}`, {
        code: DataManagerErrorCodes.Corrupt,
      });
    }
    return entry;
  }

  private async index(
    dataType: string,
    fileId: string,
    signal?: AbortSignal,
  ): Promise<Map<string, EntryRange>> {
    const cacheKey = `${dataType}/${fileId}`;
    const cached = this.cache.get(cacheKey);
    if (cached) {
      // refresh LRU position
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached;
    }
    let pending = this.loading.get(cacheKey);
    if (!pending) {
      pending = this.loadIndex(dataType, fileId, signal).finally(() =>
        this.loading.delete(cacheKey),
      );
      this.loading.set(cacheKey, pending);
    }
    const index = await pending;
    this.cache.set(cacheKey, index);
    while (this.cache.size > this.maxCachedIndexes) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    return index;
  }

  private async loadIndex(
    dataType: string,
    fileId: string,
    signal?: AbortSignal,
  ): Promise<Map<string, EntryRange>> {
    const key = ostPaths.dataIndex(dataType, fileId);
    const offsets = decodeDataIndex(await readObject(this.ost, key, { signal }), key);
    const sorted = [...offsets.entries()].sort((a, b) => a[1] - b[1]);
    const ranges = new Map<string, EntryRange>();
    sorted.forEach(([id, start], i) => ranges.set(id, { start, end: sorted[i + 1]?.[1] }));
    return ranges;
  }
}

/** Options of {@link DataFileWriter}. */
export interface DataFileWriterOptions {
  ost: ObjectStorage;
  dataType: string;
  dataSequence: string;
  maxDataFileSize: number;
  signal?: AbortSignal;
}

/**
 * Writes a sorted stream of entries as data files of at most `maxDataFileSize` bytes each
 * (an entry larger than that gets a file of its own; an entry is never split), each with its
 * index. File ids are `<dataSeq>-<uuid>` as Agola's.
 */
export class DataFileWriter {
  /** The files written so far, in entry order. */
  readonly files: DataFileRef[] = [];
  /** Bytes written (data files and indexes). */
  bytesWritten = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private offsets = new Map<string, number>();
  private lastId: string | undefined;

  constructor(private readonly options: DataFileWriterOptions) {}

  /** Adds the next entry (ids must be strictly increasing). */
  async add(entry: DataEntry): Promise<void> {
    await this.addEncoded(entry.id, Buffer.from(encodeDataEntry(entry)));
  }

  /** Adds the next entry already encoded (one JSON object, as read from a data file). */
  async addRaw(entry: RawEntry): Promise<void> {
    await this.addEncoded(entry.id, Buffer.concat([entry.bytes, NEWLINE]));
  }

  private async addEncoded(id: string, line: Buffer): Promise<void> {
    if (this.lastId !== undefined && id <= this.lastId) {
      throw newError(
        `data type ${this.options.dataType}: entry ${JSON.stringify(id)} is not after ${JSON.stringify(this.lastId)}`,
        { code: DataManagerErrorCodes.Corrupt },
      );
    }
    if (this.size > 0 && this.size + line.length > this.options.maxDataFileSize) await this.flush();
    this.offsets.set(id, this.size);
    this.chunks.push(line);
    this.size += line.length;
    this.lastId = id;
    if (this.size >= this.options.maxDataFileSize) await this.flush();
  }

  /** Writes the pending entries as a file (no-op when there are none). */
  async flush(): Promise<void> {
    if (this.size === 0 || this.lastId === undefined) return;
    const { ost, dataType, dataSequence, signal } = this.options;
    const fileId = `${dataSequence}-${randomUUID()}`;
    const data = Buffer.concat(this.chunks, this.size);
    const index = encodeDataIndex(this.offsets);
    try {
      await ost.write(ostPaths.dataFile(dataType, fileId), data, { persist: true, signal });
      await ost.write(ostPaths.dataIndex(dataType, fileId), index, { persist: true, signal });
    } catch (err) {
      throw wrap(err, `writing data file ${dataType}/${fileId}`);
    }
    this.bytesWritten += data.length + Buffer.byteLength(index);
    this.files.push({ id: fileId, lastEntryId: this.lastId });
    this.chunks = [];
    this.size = 0;
    this.offsets = new Map();
  }
}

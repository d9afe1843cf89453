// JSON forms of Agola v0.7 (field names and shapes), so stored data stays compatible both ways.
import { newError, wrap } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import type { Action, DataEntry, DataStatus, WalData, WalHeader, WalStatus } from './types.js';

function corrupt(what: string, detail: string): Error {
  return newError(`${what}: ${detail}`, { code: DataManagerErrorCodes.Corrupt });
}

function parseJson(text: string | Buffer, what: string): unknown {
  try {
    return JSON.parse(text.toString());
  } catch (err) {
    throw wrap(err, `${what}: invalid JSON`, { code: DataManagerErrorCodes.Corrupt });
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw corrupt(what, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

function str(obj: Record<string, unknown>, field: string, what: string, optional = false): string {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (optional) return '';
    throw corrupt(what, `missing "${field}"`);
  }
  if (typeof v !== 'string') throw corrupt(what, `"${field}" is not a string`);
  return v;
}

const toBuffer = (data: Uint8Array | string | undefined): Buffer =>
  data === undefined
    ? Buffer.alloc(0)
    : typeof data === 'string'
      ? Buffer.from(data)
      : Buffer.from(data);

/** One action as a line of a wal data file: `{"ActionType","DataType","ID","Data"(base64)}`. */
export function encodeAction(action: Action): string {
  const data = action.actionType === 'put' ? toBuffer(action.data).toString('base64') : null;
  return `${JSON.stringify({
    ActionType: action.actionType,
    DataType: action.dataType,
    ID: action.id,
    Data: data,
  })}\n`;
}

/** Decodes one action object of a wal data file. */
export function decodeAction(value: unknown, what: string): Action & { data: Buffer } {
  const obj = asObject(value, what);
  const actionType = str(obj, 'ActionType', what);
  if (actionType !== 'put' && actionType !== 'delete') {
    throw corrupt(what, `unknown ActionType ${JSON.stringify(actionType)}`);
  }
  const data = str(obj, 'Data', what, true);
  return {
    actionType,
    dataType: str(obj, 'DataType', what),
    id: str(obj, 'ID', what),
    data: Buffer.from(data, 'base64'),
  };
}

/**
 * Splits a stream of concatenated JSON objects (Agola writes them back to back, Go's encoder
 * adds a newline after each) into the bytes of each object, chunk by chunk: the state of the
 * scan is kept between chunks, so an object may span any number of them.
 */
export class JsonObjectSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private consumed = 0;

  constructor(private readonly what: string) {}

  /**
   * Feeds the next chunk; returns the objects it completed.
   * @throws `ERR_DATAMANAGER_CORRUPT` on anything but whitespace between objects.
   */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    const buf = this.pending;
    for (let i = this.scanned; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (c === 0x7b) {
          this.start = i;
          this.depth = 1;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          throw corrupt(this.what, `unexpected byte at offset ${this.consumed + i}`);
        }
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) out.push(buf.subarray(this.start, i + 1));
      }
    }
    // keep only the unfinished object (if any) for the next chunk
    const keepFrom = this.depth > 0 ? this.start : buf.length;
    this.consumed += keepFrom;
    this.pending = buf.subarray(keepFrom);
    this.scanned = buf.length - keepFrom;
    if (this.depth > 0) this.start = 0;
    return out;
  }

  /** Ends the stream. @throws `ERR_DATAMANAGER_CORRUPT` when an object is unfinished. */
  end(): void {
    if (this.depth !== 0 || this.inString) throw corrupt(this.what, 'truncated JSON object');
  }
}

/**
 * The byte ranges of the concatenated JSON objects in a buffer.
 *
 * @throws `ERR_DATAMANAGER_CORRUPT` on anything but whitespace between objects, or a
 *   truncated object.
 */
export function splitJsonObjects(buf: Buffer, what: string): Array<[number, number]> {
  const splitter = new JsonObjectSplitter(what);
  const objects = splitter.push(buf);
  splitter.end();
  // the objects are views into `buf`: turn them into ranges
  return objects.map((o) => {
    const start = o.byteOffset - buf.byteOffset;
    return [start, start + o.length];
  });
}

/** Decodes a whole wal data file into its actions. */
export function decodeWalDataFile(buf: Buffer, what: string): Array<Action & { data: Buffer }> {
  return splitJsonObjects(buf, what).map(([s, e]) =>
    decodeAction(parseJson(buf.subarray(s, e), what), what),
  );
}

/** A data entry line of a data file: `{"id","data_type","data"(base64)}`. */
export function encodeDataEntry(entry: DataEntry): string {
  return `${JSON.stringify({ id: entry.id, data_type: entry.dataType, data: entry.data.toString('base64') })}\n`;
}

// The layout both Agola (Go's encoder, fields in struct order) and encodeDataEntry write:
// {"id":"…","data_type":"…","data":"<base64>"}
const ENTRY_HEAD = Buffer.from('{"id":"');
const ENTRY_TYPE = Buffer.from('","data_type":"');
const ENTRY_DATA = Buffer.from('","data":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const CLOSE_BRACE = 0x7d;

/** Whether buf[start, end) has no `\\` and no control character: a JSON string's raw text. */
function plainStringBytes(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c === BACKSLASH) return false;
  }
  return true;
}

/** Whether buf[start, end) holds only JSON whitespace. */
function onlyWhitespace(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/** Whether `buf` holds `part` at `at`. */
const holds = (buf: Buffer, part: Buffer, at: number): boolean =>
  at + part.length <= buf.length && buf.compare(part, 0, part.length, at, at + part.length) === 0;

/**
 * Room that decoded entries' data are cut from: one allocation for a whole data file instead
 * of one per entry (each entry's `data` is a view into `buf`, which lives as long as any of
 * them). Make `buf` at least three quarters of the encoded bytes it will receive.
 */
export interface DataArena {
  buf: Buffer;
  used: number;
}

/**
 * Decodes the data entry in buf[start, end) when it is laid out exactly as written (see
 * ENTRY_HEAD; whitespace may follow it) without JSON.parse: the id and the data type are cut
 * from the bytes and the base64 is decoded straight into `arena` (or a buffer of its own).
 * Returns undefined for any other layout (another field order, whitespace inside, escapes,
 * null data) and for base64 that is not canonical, so that JSON.parse decides those: what
 * this returns is what {@link decodeDataEntry}'s JSON path returns for the same bytes.
 */
export function decodeCanonicalDataEntry(
  buf: Buffer,
  start: number,
  end: number,
  arena?: DataArena,
): DataEntry | undefined {
  if (!holds(buf, ENTRY_HEAD, start)) return undefined;
  const idStart = start + ENTRY_HEAD.length;
  const idEnd = buf.indexOf(QUOTE, idStart);
  if (idEnd < 0 || idEnd >= end || !plainStringBytes(buf, idStart, idEnd)) return undefined;
  if (!holds(buf, ENTRY_TYPE, idEnd)) return undefined;
  const typeStart = idEnd + ENTRY_TYPE.length;
  const typeEnd = buf.indexOf(QUOTE, typeStart);
  if (typeEnd < 0 || typeEnd >= end || !plainStringBytes(buf, typeStart, typeEnd)) {
    return undefined;
  }
  if (!holds(buf, ENTRY_DATA, typeEnd)) return undefined;
  const dataStart = typeEnd + ENTRY_DATA.length;
  const dataEnd = buf.indexOf(QUOTE, dataStart);
  if (dataEnd < 0 || dataEnd + 2 > end || buf[dataEnd + 1] !== CLOSE_BRACE) return undefined;
  if (!onlyWhitespace(buf, dataEnd + 2, end)) return undefined;
  // canonical base64: no escape, a multiple of 4 characters, and decoding to exactly
  // len / 4 * 3 bytes less the padding (the decoder skips a character outside its alphabet,
  // a control character included, which makes the count come out short)
  const len = dataEnd - dataStart;
  if (len % 4 !== 0 || buf.subarray(dataStart, dataEnd).includes(BACKSLASH)) return undefined;
  const padding =
    len === 0 ? 0 : (buf[dataEnd - 1] === EQUALS ? 1 : 0) + (buf[dataEnd - 2] === EQUALS ? 1 : 0);
  const size = (len / 4) * 3 - padding;
  const text = buf.toString('latin1', dataStart, dataEnd);
  let data: Buffer;
  if (arena && arena.buf.length - arena.used >= size) {
    if (arena.buf.write(text, arena.used, size, 'base64') !== size) return undefined;
    data = arena.buf.subarray(arena.used, arena.used + size);
    arena.used += size;
  } else {
    data = Buffer.from(text, 'base64');
    if (data.length !== size) return undefined;
  }
  return {
    id: buf.toString('utf8', idStart, idEnd),
    dataType: buf.toString('utf8', typeStart, typeEnd),
    data,
  };
}

/** Decodes one data entry (the bytes of one JSON object). */
export function decodeDataEntry(bytes: Buffer | string, what: string): DataEntry {
  if (typeof bytes !== 'string') {
    const entry = decodeCanonicalDataEntry(bytes, 0, bytes.length);
    if (entry) return entry;
  }
  const obj = asObject(parseJson(bytes, what), what);
  return {
    id: str(obj, 'id', what),
    dataType: str(obj, 'data_type', what),
    data: Buffer.from(str(obj, 'data', what, true), 'base64'),
  };
}

/** The index of a data file: `{"index": {"<id>": <byte offset>}}`. */
export function encodeDataIndex(offsets: Map<string, number>): string {
  return JSON.stringify({ index: Object.fromEntries(offsets) });
}

/** Decodes a data file index into entries sorted by offset. */
export function decodeDataIndex(buf: Buffer, what: string): Map<string, number> {
  const obj = asObject(parseJson(buf, what), what);
  const index = asObject(obj['index'] ?? {}, what);
  const out = new Map<string, number>();
  for (const [id, offset] of Object.entries(index)) {
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw corrupt(what, `bad offset for ${JSON.stringify(id)}`);
    }
    out.set(id, offset);
  }
  return out;
}

/** A data status: `{"data_sequence","wal_sequence","files":{type:[{"id","last_entry_id"}]}}`. */
export function encodeDataStatus(status: DataStatus): string {
  const files: Record<string, Array<{ id: string; last_entry_id: string }>> = {};
  for (const [type, refs] of Object.entries(status.files)) {
    files[type] = refs.map((r) => ({ id: r.id, last_entry_id: r.lastEntryId }));
  }
  return JSON.stringify({
    data_sequence: status.dataSequence,
    wal_sequence: status.walSequence,
    files,
  });
}

/** Decodes a data status file. */
export function decodeDataStatus(buf: Buffer, what: string): DataStatus {
  const obj = asObject(parseJson(buf, what), what);
  const filesObj = asObject(obj['files'] ?? {}, what);
  const files: DataStatus['files'] = {};
  for (const [type, refs] of Object.entries(filesObj)) {
    if (!Array.isArray(refs)) throw corrupt(what, `files of ${type} is not a list`);
    files[type] = refs.map((r) => {
      const ref = asObject(r, what);
      return { id: str(ref, 'id', what), lastEntryId: str(ref, 'last_entry_id', what) };
    });
  }
  return {
    dataSequence: str(obj, 'data_sequence', what),
    walSequence: str(obj, 'wal_sequence', what, true),
    files,
  };
}

const WAL_STATUSES: readonly string[] = ['committed', 'committed_storage', 'checkpointed'];

/** A wal in etcd: `{"WalDataFileID","WalStatus","WalSequence","PreviousWalSequence"}`. */
export function encodeWalData(wal: WalData): string {
  return JSON.stringify({
    WalDataFileID: wal.walDataFileId,
    WalStatus: wal.walStatus,
    WalSequence: wal.walSequence,
    PreviousWalSequence: wal.previousWalSequence,
    ...(wal.inlineData ? { InlineData: wal.inlineData.toString('base64') } : {}),
  });
}

/** Decodes a wal value from etcd. */
export function decodeWalData(buf: Buffer, what: string): WalData {
  const obj = asObject(parseJson(buf, what), what);
  const walStatus = str(obj, 'WalStatus', what);
  if (!WAL_STATUSES.includes(walStatus)) {
    throw corrupt(what, `unknown WalStatus ${JSON.stringify(walStatus)}`);
  }
  const inline = str(obj, 'InlineData', what, true);
  return {
    walDataFileId: str(obj, 'WalDataFileID', what, true),
    walStatus: walStatus as WalStatus,
    walSequence: str(obj, 'WalSequence', what),
    previousWalSequence: str(obj, 'PreviousWalSequence', what, true),
    ...(inline ? { inlineData: Buffer.from(inline, 'base64') } : {}),
  };
}

/** A wal header in the object storage: `{"WalDataFileID","PreviousWalSequence"}`. */
export function encodeWalHeader(header: WalHeader): string {
  return JSON.stringify({
    WalDataFileID: header.walDataFileId,
    PreviousWalSequence: header.previousWalSequence,
  });
}

/** Decodes a wal header. */
export function decodeWalHeader(buf: Buffer, what: string): WalHeader {
  const obj = asObject(parseJson(buf, what), what);
  return {
    walDataFileId: str(obj, 'WalDataFileID', what),
    previousWalSequence: str(obj, 'PreviousWalSequence', what, true),
  };
}

/** `walsdata`: `{"LastCommittedWalSequence": "<seq>"}`. */
export function encodeWalsData(lastCommittedWalSequence: string): string {
  return JSON.stringify({ LastCommittedWalSequence: lastCommittedWalSequence });
}

/** Decodes `walsdata`. */
export function decodeWalsData(buf: Buffer, what: string): string {
  return str(asObject(parseJson(buf, what), what), 'LastCommittedWalSequence', what, true);
}

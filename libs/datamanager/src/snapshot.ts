import type { ObjectStorage } from '@agola-ts/ost';
import { DataFileWriter, readRawDataFile, type RawEntry } from './data-files.js';
import { encodeDataStatus } from './encoding.js';
import { ostPaths } from './paths.js';
import type { Action, DataEntry, DataFileRef, DataStatus } from './types.js';

/** A wal with its actions, in sequence order. */
export interface WalWithActions {
  walSequence: string;
  actions: Array<Action & { data: Buffer }>;
}

/** What a snapshot wrote. */
export interface SnapshotResult {
  status: DataStatus;
  /** Bytes of data and index files written. */
  bytesWritten: number;
  /** Data files rewritten or added. */
  filesWritten: number;
}

/** Options of {@link writeDataSnapshot}. */
export interface WriteSnapshotOptions {
  ost: ObjectStorage;
  /** The previous snapshot (undefined for the first one). */
  previous: DataStatus | undefined;
  /** Wals to include, in order; those already in `previous` are skipped. */
  wals: WalWithActions[];
  dataSequence: string;
  /** Data types in their configured order. */
  dataTypes: readonly string[];
  maxDataFileSize: number;
  signal?: AbortSignal;
}

/**
 * Writes a new data snapshot: the previous one with the wals' actions applied. Only the data
 * files that receive an action are rewritten (merged with the actions and split at
 * `maxDataFileSize`); every other file is reused. Writes the files, then the status.
 */
export async function writeDataSnapshot(options: WriteSnapshotOptions): Promise<SnapshotResult> {
  const { ost, previous, dataSequence, maxDataFileSize, signal } = options;
  const fromWal = previous?.walSequence ?? '';
  const wals = options.wals.filter((w) => w.walSequence > fromWal);
  const lastWal = wals[wals.length - 1]?.walSequence ?? fromWal;

  // The last action per entry, per data type.
  const latest = new Map<string, Map<string, Action & { data: Buffer }>>();
  for (const wal of wals) {
    for (const action of wal.actions) {
      let byId = latest.get(action.dataType);
      if (!byId) latest.set(action.dataType, (byId = new Map()));
      byId.set(action.id, action);
    }
  }

  const files: Record<string, DataFileRef[]> = {};
  let bytesWritten = 0;
  let filesWritten = 0;
  const types = [
    ...new Set([...options.dataTypes, ...Object.keys(previous?.files ?? {}), ...latest.keys()]),
  ];
  for (const dataType of types) {
    const oldFiles = previous?.files[dataType] ?? [];
    const byId = latest.get(dataType);
    if (!byId || byId.size === 0) {
      if (oldFiles.length > 0) files[dataType] = oldFiles;
      continue;
    }
    const actions = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    // Group the actions by the file they fall into: the first file whose last entry id is
    // >= the action's id; anything past the last file goes to the last file.
    const groups = new Map<number, Array<Action & { data: Buffer }>>();
    for (const action of actions) {
      let idx = oldFiles.findIndex((f) => f.lastEntryId >= action.id);
      if (idx < 0) idx = oldFiles.length - 1; // -1 when the type has no file yet
      let group = groups.get(idx);
      if (!group) groups.set(idx, (group = []));
      group.push(action);
    }

    const newFiles: DataFileRef[] = [];
    const affected = [...groups.keys()].sort((a, b) => a - b);
    let next = 0;
    for (const idx of affected) {
      // untouched files before this one are reused as they are
      for (; next < idx; next++) newFiles.push(oldFiles[next]!);
      const existing =
        idx >= 0 ? await readRawDataFile(ost, dataType, oldFiles[idx]!.id, signal) : [];
      const writer = new DataFileWriter({ ost, dataType, dataSequence, maxDataFileSize, signal });
      for (const entry of mergeEntries(existing, groups.get(idx)!)) {
        if ('bytes' in entry) await writer.addRaw(entry);
        else await writer.add(entry);
      }
      await writer.flush();
      newFiles.push(...writer.files);
      bytesWritten += writer.bytesWritten;
      filesWritten += writer.files.length;
      next = idx + 1;
    }
    for (; next < oldFiles.length; next++) newFiles.push(oldFiles[next]!);
    if (newFiles.length > 0) files[dataType] = newFiles;
  }

  const status: DataStatus = { dataSequence, walSequence: lastWal, files };
  await ost.write(ostPaths.dataStatus(dataSequence), encodeDataStatus(status), {
    persist: true,
    signal,
  });
  return { status, bytesWritten, filesWritten };
}

/**
 * Merge-joins a file's sorted entries with sorted actions: puts replace or insert, deletes
 * remove; untouched entries pass through as stored.
 */
function* mergeEntries(
  entries: RawEntry[],
  actions: Array<Action & { data: Buffer }>,
): Generator<RawEntry | DataEntry> {
  let i = 0;
  let j = 0;
  while (i < entries.length || j < actions.length) {
    const e = entries[i];
    const a = actions[j];
    if (a === undefined || (e !== undefined && e.id < a.id)) {
      yield e!;
      i++;
      continue;
    }
    if (e !== undefined && e.id === a.id) i++;
    if (a.actionType === 'put') yield { id: a.id, dataType: a.dataType, data: a.data };
    j++;
  }
}

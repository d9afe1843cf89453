import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { is, newError, wrap } from '@agola-ts/errors';
import { Sequence, type Op } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { DataFileWriter, latestDataStatus } from './data-files.js';
import {
  decodeDataEntry,
  encodeDataStatus,
  encodeWalData,
  encodeWalHeader,
  encodeWalsData,
  JsonObjectSplitter,
} from './encoding.js';
import { deleteIfExists } from './ost-io.js';
import { etcdKeys, LOCK_PREFIXES, ostPaths } from './paths.js';
import type { DataFileRef, DataStatus } from './types.js';

/**
 * A stream of the snapshot's entries in Agola's export format: the raw data files of every
 * data type (in the configured order, then any other type the snapshot has), file by file,
 * so entries are grouped by type and sorted by id. A failure while streaming destroys the
 * stream with the error (an HTTP handler then aborts the response).
 */
export function exportStream(
  ctx: DataManagerContext,
  status: DataStatus | undefined,
  signal?: AbortSignal,
): Readable {
  const files = status?.files ?? {};
  const types = [
    ...ctx.options.dataTypes,
    ...Object.keys(files).filter((t) => !ctx.options.dataTypes.includes(t)),
  ];
  async function* generate(): AsyncGenerator<Buffer> {
    for (const dataType of types) {
      for (const file of files[dataType] ?? []) {
        const stream = await ctx.ost.read(ostPaths.dataFile(dataType, file.id), { signal });
        let last: number | undefined;
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          if (buf.length > 0) last = buf[buf.length - 1];
          yield buf;
        }
        // Agola's files have no newline after the last entry: keep one entry per line
        if (last !== undefined && last !== 0x0a) yield Buffer.from('\n');
      }
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

/** What an import did. */
export interface ImportResult {
  status: DataStatus;
  /** Entries imported per data type. */
  entries: Record<string, number>;
}

function invalid(message: string): Error {
  return newError(`invalid import: ${message}`, { code: DataManagerErrorCodes.InvalidImport });
}

/**
 * Imports an export stream as the new content of the datamanager. The stream is validated
 * while its data files are written under a new data sequence (grouped by data type, a known
 * type, ids sorted and unique): a bad stream is rejected and its files deleted before anything
 * visible changed. Then the snapshot is written and etcd's datamanager state is reset to it
 * (a new epoch: every follower resyncs fully).
 */
export async function importStream(
  ctx: DataManagerContext,
  input: AsyncIterable<Uint8Array | string>,
  signal?: AbortSignal,
): Promise<ImportResult> {
  const previous = await latestDataStatus(ctx.ost, signal);
  const dataSequence = nextDataSequence(previous?.dataSequence);
  const splitter = new JsonObjectSplitter('import stream');
  const files: Record<string, DataFileRef[]> = {};
  const counts: Record<string, number> = {};
  const written: Array<[string, DataFileRef[]]> = [];
  const doneTypes = new Set<string>();
  let writer: DataFileWriter | undefined;
  let currentType: string | undefined;
  let lastId: string | undefined;

  const finishType = async () => {
    if (!writer || currentType === undefined) return;
    await writer.flush();
    files[currentType] = writer.files;
    doneTypes.add(currentType);
  };

  try {
    for await (const chunk of input) {
      if (signal?.aborted)
        throw newError('import aborted', { code: DataManagerErrorCodes.InvalidImport });
      let objects: Buffer[];
      try {
        objects = splitter.push(
          typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk),
        );
      } catch (err) {
        throw wrap(err, 'invalid import', { code: DataManagerErrorCodes.InvalidImport });
      }
      for (const bytes of objects) {
        let entry;
        try {
          entry = decodeDataEntry(bytes, 'import stream');
        } catch (err) {
          throw wrap(err, 'invalid import: bad entry', {
            code: DataManagerErrorCodes.InvalidImport,
          });
        }
        if (!ctx.options.dataTypes.includes(entry.dataType)) {
          throw invalid(`unknown data type ${JSON.stringify(entry.dataType)}`);
        }
        if (entry.dataType !== currentType) {
          if (doneTypes.has(entry.dataType)) {
            throw invalid(
              `entries of data type ${JSON.stringify(entry.dataType)} are not grouped together`,
            );
          }
          await finishType();
          currentType = entry.dataType;
          lastId = undefined;
          writer = new DataFileWriter({
            ost: ctx.ost,
            dataType: entry.dataType,
            dataSequence,
            maxDataFileSize: ctx.options.maxDataFileSize,
            signal,
          });
          written.push([entry.dataType, writer.files]);
        }
        if (lastId !== undefined && entry.id <= lastId) {
          throw invalid(
            entry.id === lastId
              ? `duplicate ${entry.dataType} id ${JSON.stringify(entry.id)}`
              : `${entry.dataType} ids are not sorted: ${JSON.stringify(entry.id)} after ${JSON.stringify(lastId)}`,
          );
        }
        lastId = entry.id;
        counts[entry.dataType] = (counts[entry.dataType] ?? 0) + 1;
        await writer!.add(entry);
      }
    }
    try {
      splitter.end();
    } catch (err) {
      throw wrap(err, 'invalid import', { code: DataManagerErrorCodes.InvalidImport });
    }
    await finishType();
  } catch (err) {
    // nothing visible changed: remove the files written so far
    for (const [dataType, refs] of written) {
      for (const ref of refs) {
        await deleteIfExists(ctx.ost, ostPaths.dataFile(dataType, ref.id));
        await deleteIfExists(ctx.ost, ostPaths.dataIndex(dataType, ref.id));
      }
    }
    if (is(err, DataManagerErrorCodes.InvalidImport)) throw err;
    throw wrap(err, 'importing');
  }

  const status = await resetEtcdForImport(ctx, { dataSequence, walSequence: '', files }, signal);
  ctx.logger.info({ dataSequence, entries: counts }, 'datamanager import done');
  return { status, entries: counts };
}

/** A data sequence after every existing one, made without etcd (it is reset afterwards). */
function nextDataSequence(latest: string | undefined): string {
  const candidate = new Sequence(BigInt(Date.now()), 1n);
  if (!latest) return candidate.toString();
  const last = Sequence.parse(latest);
  return Sequence.compare(candidate, last) > 0
    ? candidate.toString()
    : new Sequence(last.epoch, last.counter + 1n).toString();
}

/**
 * Resets the datamanager's etcd state to an imported snapshot: a new wal chain starts with an
 * empty wal (new epoch), which the snapshot names as its last wal, so the wals from before the
 * import are never replayed over it (Agola re-registered them).
 */
async function resetEtcdForImport(
  ctx: DataManagerContext,
  base: DataStatus,
  signal?: AbortSignal,
): Promise<DataStatus> {
  const { kvs } = await ctx.etcd.list('', { keysOnly: true });
  for (const kv of kvs) {
    if (LOCK_PREFIXES.some((p) => kv.key === p || kv.key.startsWith(`${p}/`))) continue;
    await ctx.etcd.delete(kv.key);
  }
  const dataSeq = Sequence.parse(base.dataSequence);
  const walSeq = new Sequence(BigInt(Date.now()), 1n).toString();
  const walDataFileId = randomUUID();
  await ctx.ost.write(ostPaths.walData(walDataFileId), '', { persist: true, signal });
  await ctx.ost.write(
    ostPaths.walHeader(walSeq),
    encodeWalHeader({ walDataFileId, previousWalSequence: '' }),
    {
      persist: true,
      signal,
    },
  );
  const status: DataStatus = { ...base, walSequence: walSeq };
  await ctx.ost.write(ostPaths.dataStatus(status.dataSequence), encodeDataStatus(status), {
    persist: true,
    signal,
  });
  const ops: Op[] = [
    { type: 'put', key: etcdKeys.changeGroupsMinRev, value: '' },
    { type: 'put', key: etcdKeys.walSeq, value: `{"Epoch":${Sequence.parse(walSeq).epoch},"C":1}` },
    {
      type: 'put',
      key: etcdKeys.checkpointSeq,
      value: `{"Epoch":${dataSeq.epoch},"C":${dataSeq.counter}}`,
    },
    { type: 'put', key: etcdKeys.lastCommittedStorageWalSeq, value: walSeq },
    {
      type: 'put',
      key: etcdKeys.wal(walSeq),
      value: encodeWalData({
        walDataFileId,
        walStatus: 'checkpointed',
        walSequence: walSeq,
        previousWalSequence: '',
      }),
    },
    { type: 'put', key: etcdKeys.walsData, value: encodeWalsData(walSeq) },
  ];
  const res = await ctx.etcd.txn({
    compare: [{ key: etcdKeys.walsData, target: 'create', operator: '==', value: 0n }],
    success: ops,
  });
  if (!res.succeeded) {
    throw newError(
      'import: another instance re-initialized etcd meanwhile (is every instance in maintenance mode?)',
      {
        code: DataManagerErrorCodes.InvalidImport,
      },
    );
  }
  return status;
}

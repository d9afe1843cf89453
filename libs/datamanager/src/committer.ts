import { newError } from '@agola-ts/errors';
import { Sequence, type Compare, type Op, type TxnResponse } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import type { DataManagerContext } from './context.js';
import { decodeWalsData, encodeWalData, encodeWalsData } from './encoding.js';
import { etcdKeys } from './paths.js';
import type { Action, ChangeGroupsToken } from './types.js';

/** A wal whose data file is in the object storage, waiting to be committed in etcd. */
export interface CommitRequest {
  walDataFileId: string;
  /** The wal data, when it goes inline in etcd instead of a file written beforehand. */
  inlineData: Buffer | undefined;
  actions: Array<Action & { data: Buffer }>;
  token: ChangeGroupsToken | undefined;
}

/** A committed wal. */
export interface CommitResult {
  walSequence: string;
  /** The token after the write: every group of the input token at the commit's revision. */
  changeGroupsToken: ChangeGroupsToken;
  /** etcd revision of the commit. */
  revision: bigint;
}

/** etcd's default limit of operations per transaction branch. */
export const MAX_TXN_OPS = 128;
/** Inline wal bytes (base64) per transaction, well under etcd's 1.5 MiB request limit. */
const MAX_INLINE_BATCH_BYTES = 1024 * 1024;

interface Pending extends CommitRequest {
  resolve(result: CommitResult): void;
  reject(err: unknown): void;
}

interface SequenceState {
  epoch: bigint;
  counter: bigint;
  walSeqModRevision: bigint;
  lastWal: string;
  walsDataModRevision: bigint;
}

/**
 * Commits wals in etcd with group commit: the wals of every caller waiting at that moment go
 * into ONE transaction that allocates their sequences (the `walseq` key is updated in the same
 * transaction), chains them, records them and bumps their change groups. A change-group
 * conflict fails only the requests whose groups conflict (`ERR_DATAMANAGER_CONCURRENCY`);
 * anything else that changed under the transaction (another instance committing) is retried,
 * so writers on different change groups never fail because of each other.
 */
export class Committer {
  private readonly queue: Pending[] = [];
  private draining = false;
  private state: SequenceState | undefined;

  constructor(
    private readonly ctx: DataManagerContext,
    /** Called after each successful commit with the committed wals and the commit revision. */
    private readonly onCommitted: (
      wals: Array<{ walSequence: string; request: CommitRequest }>,
      revision: bigint,
    ) => void,
  ) {}

  /** Queues a wal for commit; resolves once it is committed in etcd. */
  submit(request: CommitRequest): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** Forgets the cached sequence state (after an etcd reset). */
  invalidate(): void {
    this.state = undefined;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.commitBatch(batch);
        } catch (err) {
          this.state = undefined;
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Takes waiting requests in order, at most one per change group (a later one waits). */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const groups = new Set<string>();
    const rest: Pending[] = [];
    let inlineBytes = 0;
    for (const p of this.queue) {
      const names = Object.keys(p.token?.changeGroupsRevisions ?? {});
      // etcd refuses transactions of more than 128 ops per branch (--max-txn-ops) and requests
      // over 1.5 MiB (--max-request-bytes): the success branch holds walseq + walsdata + one
      // put per wal (with its inline data) and per group.
      const ops = 2 + batch.length + 1 + groups.size + names.length;
      const bytes = inlineBytes + (p.inlineData?.length ?? 0) * 1.34;
      const fits =
        batch.length === 0 ||
        (batch.length < this.ctx.options.maxWalsPerCommit &&
          ops <= MAX_TXN_OPS &&
          bytes <= MAX_INLINE_BATCH_BYTES);
      if (fits && !names.some((n) => groups.has(n))) {
        batch.push(p);
        inlineBytes = bytes;
        for (const n of names) groups.add(n);
      } else {
        rest.push(p);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }

  private async loadState(): Promise<SequenceState> {
    const res = await this.ctx.etcd.txn({
      success: [
        { type: 'get', key: etcdKeys.walSeq },
        { type: 'get', key: etcdKeys.walsData },
      ],
    });
    return this.stateFrom(res.responses[0], res.responses[1]);
  }

  private stateFrom(
    walSeqRes: TxnResponse | undefined,
    walsDataRes: TxnResponse | undefined,
  ): SequenceState {
    const walSeqKv = walSeqRes?.type === 'get' ? walSeqRes.kvs[0] : undefined;
    const walsDataKv = walsDataRes?.type === 'get' ? walsDataRes.kvs[0] : undefined;
    if (!walSeqKv || !walsDataKv) {
      throw newError('datamanager etcd state is not initialized (etcd empty or reset)', {
        code: DataManagerErrorCodes.NotInitialized,
      });
    }
    const m = /"Epoch"\s*:\s*(\d+)\s*,\s*"C"\s*:\s*(\d+)/.exec(walSeqKv.value.toString());
    if (!m) {
      throw newError(`invalid walseq ${walSeqKv.value.toString().slice(0, 100)}`, {
        code: DataManagerErrorCodes.Corrupt,
      });
    }
    return {
      epoch: BigInt(m[1]!),
      counter: BigInt(m[2]!),
      walSeqModRevision: walSeqKv.modRevision,
      lastWal: decodeWalsData(walsDataKv.value, 'walsdata'),
      walsDataModRevision: walsDataKv.modRevision,
    };
  }

  private async commitBatch(initial: Pending[]): Promise<void> {
    let batch = initial;
    const range = BigInt(this.ctx.options.changeGroupsRevisionRange);
    for (let attempt = 0; batch.length > 0; attempt++) {
      const state = (this.state ??= await this.loadState());
      const seqs = batch.map((_, i) =>
        new Sequence(state.epoch, state.counter + BigInt(i + 1)).toString(),
      );
      const groupNames = batch.flatMap((p) => Object.keys(p.token?.changeGroupsRevisions ?? {}));
      const curRevisions = batch.map((p) => p.token?.curRevision ?? 0n).filter((r) => r > 0n);
      const minCur = curRevisions.length > 0 ? curRevisions.reduce((a, b) => (a < b ? a : b)) : 0n;

      const compare: Compare[] = [
        { key: etcdKeys.walSeq, target: 'mod', operator: '==', value: state.walSeqModRevision },
        { key: etcdKeys.walsData, target: 'mod', operator: '==', value: state.walsDataModRevision },
      ];
      for (const p of batch) {
        for (const [name, rev] of Object.entries(p.token?.changeGroupsRevisions ?? {})) {
          compare.push({
            key: etcdKeys.changeGroup(name),
            target: 'mod',
            operator: '==',
            value: rev,
          });
        }
      }
      if (minCur > 0n) {
        // tokens older than the compaction range are refused (their groups may be compacted)
        compare.push({
          key: etcdKeys.changeGroupsMinRev,
          target: 'mod',
          operator: '<',
          value: minCur + range,
        });
      }
      const last = seqs[seqs.length - 1]!;
      const success: Op[] = [
        {
          type: 'put',
          key: etcdKeys.walSeq,
          value: `{"Epoch":${state.epoch},"C":${state.counter + BigInt(batch.length)}}`,
        },
        { type: 'put', key: etcdKeys.walsData, value: encodeWalsData(last) },
      ];
      batch.forEach((p, i) => {
        success.push({
          type: 'put',
          key: etcdKeys.wal(seqs[i]!),
          value: encodeWalData({
            walDataFileId: p.walDataFileId,
            walStatus: 'committed',
            walSequence: seqs[i]!,
            previousWalSequence: i === 0 ? state.lastWal : seqs[i - 1]!,
            ...(p.inlineData ? { inlineData: p.inlineData } : {}),
          }),
        });
      });
      for (const name of groupNames)
        success.push({ type: 'put', key: etcdKeys.changeGroup(name), value: '' });
      const failure: Op[] = [
        { type: 'get', key: etcdKeys.walSeq },
        { type: 'get', key: etcdKeys.walsData },
        { type: 'get', key: etcdKeys.changeGroupsMinRev },
        ...groupNames.map((n): Op => ({ type: 'get', key: etcdKeys.changeGroup(n) })),
      ];

      const res = await this.ctx.etcd.txn({ compare, success, failure });
      if (res.succeeded) {
        state.counter += BigInt(batch.length);
        state.walSeqModRevision = res.revision;
        state.walsDataModRevision = res.revision;
        state.lastWal = last;
        const committed = batch.map((p, i) => ({
          walSequence: seqs[i]!,
          request: p as CommitRequest,
        }));
        this.onCommitted(committed, res.revision);
        batch.forEach((p, i) => {
          const changeGroupsRevisions: Record<string, bigint> = {};
          for (const name of Object.keys(p.token?.changeGroupsRevisions ?? {})) {
            changeGroupsRevisions[name] = res.revision;
          }
          p.resolve({
            walSequence: seqs[i]!,
            revision: res.revision,
            changeGroupsToken: { curRevision: res.revision, changeGroupsRevisions },
          });
        });
        return;
      }

      // Failed: refresh the sequence state and find the requests whose groups conflict.
      this.state = this.stateFrom(res.responses[0], res.responses[1]);
      const minRevRes = res.responses[2];
      const minRev = minRevRes?.type === 'get' ? (minRevRes.kvs[0]?.modRevision ?? 0n) : 0n;
      const actual = new Map<string, bigint>();
      groupNames.forEach((name, i) => {
        const r = res.responses[3 + i];
        actual.set(name, r?.type === 'get' ? (r.kvs[0]?.modRevision ?? 0n) : 0n);
      });
      const keep: Pending[] = [];
      for (const p of batch) {
        const token = p.token;
        const stale = Object.entries(token?.changeGroupsRevisions ?? {}).filter(
          ([name, rev]) => actual.get(name) !== rev,
        );
        const tooOld =
          token !== undefined && token.curRevision > 0n && minRev >= token.curRevision + range;
        if (stale.length > 0 || tooOld) {
          p.reject(
            newError(
              tooOld
                ? 'wal concurrency error: change groups token is too old'
                : `wal concurrency error: change groups already updated: ${stale.map(([n]) => n).join(', ')}`,
              { code: DataManagerErrorCodes.Concurrency },
            ),
          );
        } else {
          keep.push(p);
        }
      }
      batch = keep;
      // Another instance committed in between: back off a little when it keeps happening.
      if (attempt > 3) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2)));
    }
  }
}

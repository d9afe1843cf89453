import { isDeepStrictEqual } from 'node:util';
import { badRequest, newError, wrap } from '@agola-ts/errors';
import { Sequence, type EtcdClient, type KeyValue, type Op, type Compare } from '@agola-ts/etcd';
import type { Executor, ExecutorTask, Run, RunEvent } from '@agola-ts/types';
import { RunserviceErrorCodes } from './codes.js';
import { invalid } from './errors.js';
import { CHANGE_GROUP_MIN_REVISION_RANGE, etcdKeys } from './keys.js';
import { RunIndex } from './run-index.js';

/** A value read from etcd with the mod revision it had. */
export interface Revisioned<T> {
  value: T;
  revision: bigint;
}

/**
 * A token of the active runs' change groups (reference §7.1): the etcd revision of the read and
 * the mod revision of each group (0 when it does not exist).
 */
export interface RunChangeGroupsToken {
  curRevision: bigint;
  changeGroupsRevisions: Map<string, bigint>;
}

/** The longest change group name (as Agola). */
const MAX_CHANGE_GROUP_LENGTH = 256;

/** Encodes a token as Agola's wire form: base64 of `{"cur_revision","change_groups_revisions"}`. */
export function encodeRunToken(token: RunChangeGroupsToken): string {
  const groups = [...token.changeGroupsRevisions]
    .map(([name, rev]) => `${JSON.stringify(name)}:${rev}`)
    .join(',');
  return Buffer.from(
    `{"cur_revision":${token.curRevision},"change_groups_revisions":{${groups}}}`,
  ).toString('base64');
}

/**
 * Decodes a token from the wire; an empty string is no token.
 * @throws a 400 `ERR_RUNSERVICE_INVALID_REQUEST` for anything that is not a token.
 */
export function decodeRunToken(text: string | undefined): RunChangeGroupsToken | undefined {
  if (text === undefined || text === '') return undefined;
  if (text.length > 64 * 1024) throw invalid('change groups token is too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw invalid('invalid change groups token');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid('invalid change groups token');
  }
  const o = parsed as Record<string, unknown>;
  const cur = o['cur_revision'] ?? 0;
  if (typeof cur !== 'number' || !Number.isSafeInteger(cur) || cur < 0) {
    throw invalid('invalid change groups token: cur_revision');
  }
  const groups = new Map<string, bigint>();
  const raw = o['change_groups_revisions'] ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid('invalid change groups token: change_groups_revisions');
  }
  for (const [name, rev] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) {
      throw invalid('invalid change groups token: a revision is not a number');
    }
    checkChangeGroupName(name);
    groups.set(name, BigInt(rev));
  }
  return { curRevision: BigInt(cur), changeGroupsRevisions: groups };
}

function checkChangeGroupName(name: string): void {
  if (name === '' || name.includes('/')) {
    throw invalid(`changegroup name ${JSON.stringify(name.slice(0, 100))} is invalid`);
  }
  if (name.length > MAX_CHANGE_GROUP_LENGTH) throw invalid('changegroup name too long');
}

function parse<T>(kv: KeyValue, what: string): T {
  try {
    return JSON.parse(kv.value.toString('utf8')) as T;
  } catch (err) {
    throw wrap(err, `parsing ${what} ${kv.key}`);
  }
}

/** A 400 for a run that changed since it was read (Agola's "run modified"). */
export function runModified(message = 'run modified'): Error {
  return badRequest(message, { code: RunserviceErrorCodes.ConcurrentUpdate });
}

/** The active runs, executors and executor tasks in etcd (reference §7.4). */
export class EtcdStore {
  private readonly pending = new Map<string, ((r: string | Error) => void)[]>();
  /**
   * The active runs as this instance knows them: kept by the engine's watch and by the writes
   * below (read-your-writes). Readers fall back to etcd while it is not synced.
   */
  readonly index = new RunIndex();

  constructor(readonly etcd: EtcdClient) {}

  /**
   * The next value of a sequence (Agola's `IncSequence`, same stored JSON). Concurrent callers
   * of this process share one compare-and-swap that advances the counter by their number, so
   * a burst costs one etcd round trip pair instead of one retry per caller.
   */
  nextSequence(key: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      const cb = (r: string | Error) => (typeof r === 'string' ? resolve(r) : reject(r));
      if (waiting) {
        waiting.push(cb);
        return;
      }
      this.pending.set(key, [cb]);
      void this.drainSequence(key);
    });
  }

  private async drainSequence(key: string): Promise<void> {
    for (;;) {
      const batch = this.pending.get(key) ?? [];
      if (batch.length === 0) {
        this.pending.delete(key);
        return;
      }
      this.pending.set(key, []);
      try {
        for (;;) {
          const { kv } = await this.etcd.get(key);
          let epoch: bigint;
          let counter: bigint;
          if (!kv) {
            epoch = BigInt(Date.now());
            counter = 0n;
          } else {
            const m = /^\s*\{\s*"Epoch"\s*:\s*(\d+)\s*,\s*"C"\s*:\s*(\d+)\s*\}\s*$/.exec(
              kv.value.toString('utf8'),
            );
            if (!m) throw newError(`sequence ${key} holds something else`);
            const stored = BigInt(m[1] ?? '0');
            epoch = stored === 0n ? BigInt(Date.now()) : stored;
            counter = BigInt(m[2] ?? '0');
          }
          const last = counter + BigInt(batch.length);
          const res = await this.etcd.txn({
            compare: [{ key, target: 'mod', operator: '==', value: kv?.modRevision ?? 0n }],
            success: [{ type: 'put', key, value: `{"Epoch":${epoch},"C":${last}}` }],
          });
          if (!res.succeeded) continue;
          batch.forEach((cb, i) => cb(new Sequence(epoch, counter + BigInt(i) + 1n).toString()));
          break;
        }
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const cb of batch) cb(e);
      }
    }
  }

  /** An active run, or undefined. */
  async getRun(id: string): Promise<Revisioned<Run> | undefined> {
    const { kv } = await this.etcd.get(etcdKeys.run(id));
    return kv ? { value: parse<Run>(kv, 'run'), revision: kv.modRevision } : undefined;
  }

  /** Every active run, in id order, with the etcd revision of the read. */
  async listRuns(): Promise<{ runs: Revisioned<Run>[]; revision: bigint }> {
    const runs: Revisioned<Run>[] = [];
    const pages = this.etcd.listPaged(etcdKeys.runsDir, { pageSize: 200 });
    for (;;) {
      const next = await pages.next();
      if (next.done) return { runs, revision: next.value };
      for (const kv of next.value)
        runs.push({ value: parse<Run>(kv, 'run'), revision: kv.modRevision });
    }
  }

  /**
   * Agola's `AtomicPutRun`: puts `run` if its stored mod revision is still `revision` (0n:
   * create-only), the token's change groups did not move and the token is not older than the
   * change groups' min revision allows; puts the token's groups and the optional run event in
   * the same transaction. A run deep-equal to the stored one is not written.
   *
   * @returns the new revision (the old one when nothing was written).
   * @throws a 400 `ERR_RUNSERVICE_CONCURRENT_UPDATE` ("run modified" / "optimistic locking failed").
   */
  async atomicPutRun(
    run: Run,
    revision: bigint,
    options: { event?: RunEvent | undefined; token?: RunChangeGroupsToken | undefined } = {},
  ): Promise<bigint> {
    const key = etcdKeys.run(run.id);
    const normalized = JSON.parse(JSON.stringify(run)) as Run;
    const cur = await this.getRun(run.id);
    if (cur) {
      if (cur.revision !== revision) throw runModified();
      if (isDeepStrictEqual(cur.value, normalized) && !options.event) return cur.revision;
    } else if (revision !== 0n) {
      throw runModified('run modified (it is no longer active)');
    }
    const compare: Compare[] = [
      revision > 0n
        ? { key, target: 'mod', operator: '==', value: revision }
        : { key, target: 'create', operator: '==', value: 0n },
    ];
    const success: Op[] = [{ type: 'put', key, value: JSON.stringify(normalized) }];
    let optimistic = false;
    const token = options.token;
    if (token) {
      for (const [name, rev] of token.changeGroupsRevisions) {
        optimistic = true;
        const gk = etcdKeys.changeGroup(name);
        compare.push(
          rev > 0n
            ? { key: gk, target: 'mod', operator: '==', value: rev }
            : { key: gk, target: 'create', operator: '==', value: 0n },
        );
        success.push({ type: 'put', key: gk, value: '' });
      }
      if (token.curRevision > 0n) {
        optimistic = true;
        compare.push({
          key: etcdKeys.changeGroupsMinRev,
          target: 'mod',
          operator: '<',
          value: token.curRevision + CHANGE_GROUP_MIN_REVISION_RANGE,
        });
      }
    }
    if (options.event) {
      success.push({ type: 'put', key: etcdKeys.runEvents, value: JSON.stringify(options.event) });
    }
    const res = await this.etcd.txn({ compare, success });
    if (!res.succeeded)
      throw runModified(optimistic ? 'optimistic locking failed' : 'run modified');
    this.index.apply(run.id, normalized, res.revision);
    return res.revision;
  }

  /** Deletes an active run (after it was archived in the datamanager). */
  async deleteRun(id: string, revision: bigint): Promise<boolean> {
    const res = await this.etcd.txn({
      compare: [{ key: etcdKeys.run(id), target: 'mod', operator: '==', value: revision }],
      success: [{ type: 'delete', key: etcdKeys.run(id) }],
    });
    if (res.succeeded) this.index.apply(id, undefined, res.revision);
    return res.succeeded;
  }

  /** A token of the given change groups as etcd has them now. */
  async changeGroupsToken(names: string[]): Promise<RunChangeGroupsToken> {
    for (const n of names) checkChangeGroupName(n);
    const unique = [...new Set(names)];
    const res = await this.etcd.txn({
      success: unique.map((n) => ({ type: 'get' as const, key: etcdKeys.changeGroup(n) })),
    });
    const groups = new Map<string, bigint>();
    unique.forEach((n, i) => {
      const r = res.responses[i];
      const kv = r && r.type === 'get' ? r.kvs[0] : undefined;
      groups.set(n, kv?.modRevision ?? 0n);
    });
    return { curRevision: res.revision, changeGroupsRevisions: groups };
  }

  /** A new run event with the next event sequence. */
  async newRunEvent(runId: string, phase: Run['phase'], result: Run['result']): Promise<RunEvent> {
    const seq = await this.nextSequence(etcdKeys.runEventSequence);
    return { Sequence: seq, RunID: runId, Phase: phase, Result: result } as RunEvent;
  }

  /** Compacts the change groups: as the datamanager's, range {@link CHANGE_GROUP_MIN_REVISION_RANGE}. */
  async compactChangeGroups(): Promise<number> {
    const { kv } = await this.etcd.get(etcdKeys.changeGroupsMinRev);
    const touched = await this.etcd.txn({
      compare: [
        {
          key: etcdKeys.changeGroupsMinRev,
          target: 'mod',
          operator: '==',
          value: kv?.modRevision ?? 0n,
        },
      ],
      success: [{ type: 'put', key: etcdKeys.changeGroupsMinRev, value: '' }],
    });
    if (!touched.succeeded) return 0;
    const limit = touched.revision - CHANGE_GROUP_MIN_REVISION_RANGE;
    const old = (await this.etcd.list(etcdKeys.changeGroupsDir)).kvs.filter(
      (g) => g.modRevision < limit,
    );
    let deleted = 0;
    for (const g of old) {
      const res = await this.etcd.txn({
        compare: [{ key: g.key, target: 'mod', operator: '==', value: g.modRevision }],
        success: [{ type: 'delete', key: g.key }],
      });
      if (res.succeeded) deleted++;
    }
    return deleted;
  }

  /** An executor, or undefined. */
  async getExecutor(id: string): Promise<Executor | undefined> {
    const { kv } = await this.etcd.get(etcdKeys.executor(id));
    return kv ? parse<Executor>(kv, 'executor') : undefined;
  }

  /** Every executor in key order (the order `chooseExecutor` tries them). */
  async listExecutors(): Promise<Executor[]> {
    const { kvs } = await this.etcd.list(etcdKeys.executorsDir);
    return kvs.map((kv) => parse<Executor>(kv, 'executor'));
  }

  /** Stores an executor. */
  async putExecutor(e: Executor): Promise<void> {
    await this.etcd.put(etcdKeys.executor(e.id), JSON.stringify(e));
  }

  /** Removes an executor. */
  async deleteExecutor(id: string): Promise<void> {
    await this.etcd.delete(etcdKeys.executor(id));
  }

  /** An executor task (without spec data), or undefined. */
  async getTask(id: string): Promise<Revisioned<ExecutorTask> | undefined> {
    const { kv } = await this.etcd.get(etcdKeys.task(id));
    return kv
      ? { value: parse<ExecutorTask>(kv, 'executor task'), revision: kv.modRevision }
      : undefined;
  }

  /** Every executor task. */
  async listTasks(): Promise<Revisioned<ExecutorTask>[]> {
    const out: Revisioned<ExecutorTask>[] = [];
    const pages = this.etcd.listPaged(etcdKeys.tasksDir, { pageSize: 200 });
    for (;;) {
      const next = await pages.next();
      if (next.done) return out;
      for (const kv of next.value) {
        out.push({ value: parse<ExecutorTask>(kv, 'executor task'), revision: kv.modRevision });
      }
    }
  }

  /**
   * Puts an executor task if its mod revision is still `revision` (0n: create-only); the spec
   * data is never stored. Returns the new revision, or undefined when it lost the race.
   */
  async atomicPutTask(et: ExecutorTask, revision: bigint): Promise<bigint | undefined> {
    const key = etcdKeys.task(et.id);
    const res = await this.etcd.txn({
      compare: [
        revision > 0n
          ? { key, target: 'mod', operator: '==', value: revision }
          : { key, target: 'create', operator: '==', value: 0n },
      ],
      success: [{ type: 'put', key, value: JSON.stringify(stripSpecData(et)) }],
    });
    return res.succeeded ? res.revision : undefined;
  }

  /** Deletes an executor task. */
  async deleteTask(id: string): Promise<void> {
    await this.etcd.delete(etcdKeys.task(id));
  }
}

/** The executor task as stored: its spec keeps only executor_id, run_id and stop. */
export function stripSpecData(et: ExecutorTask): ExecutorTask {
  const spec = et.spec as unknown as Record<string, unknown>;
  return {
    ...et,
    spec: {
      executor_id: spec['executor_id'],
      run_id: spec['run_id'],
      stop: spec['stop'],
    },
  } as unknown as ExecutorTask;
}

import {
  Etcd3,
  isRecoverableError,
  type IKeyValue,
  type IRequestOp,
  type IResponseOp,
} from 'etcd3';
import { handleWhen, noop, retry, ConstantBackoff } from 'cockatiel';
import { newError } from '@agola-ts/errors';
import { EtcdErrorCodes } from './codes.js';
import { invalidKey, wrapEtcdError } from './etcd-error.js';
import type { KeyValue } from './key-value.js';
import { prefixEnd } from './range-end.js';
import type { Compare, Op } from './ops.js';
import { toBigInt } from './revision.js';
import { watchPrefix, type WatchOptions, type WatchResponse } from './watch.js';

/** Options of {@link createEtcdClient}. */
export interface EtcdClientOptions {
  /** etcd client URLs (`http://127.0.0.1:2379`), one or several. */
  endpoints: string | string[];
  /**
   * Every key of this client lives under this prefix (`configstore/`); results strip it.
   * @default ''
   */
  prefix?: string;
  /** Per-call deadline. @default 10000 */
  callTimeoutMs?: number;
}

/** Result of a transaction. */
export interface TxnResult {
  /** Whether the guards held (the success ops ran) or not (the failure ops ran). */
  succeeded: boolean;
  /** Revision of the store after the transaction. */
  revision: bigint;
  /** One response per op that ran, in order. */
  responses: TxnResponse[];
}

/** Response of one transaction op. */
export type TxnResponse =
  | { type: 'put'; revision: bigint }
  | { type: 'delete'; deleted: number }
  | { type: 'get'; kvs: KeyValue[]; more: boolean };

/** Result of a get or list. */
export interface RangeResult {
  kvs: KeyValue[];
  /** Store revision the read was served at. */
  revision: bigint;
  /** True when a limit cut the result. */
  more: boolean;
}

/** Options of {@link EtcdClient.list}. */
export interface ListOptions {
  /** Read as of this revision (fails with `ERR_ETCD_COMPACTED` when compacted away). */
  revision?: bigint;
  /** At most this many keys. */
  limit?: number;
  /** Only keys strictly after this one (relative key). */
  startAfter?: string;
  /** Only keys, no values. */
  keysOnly?: boolean;
}

const COMPARE_RESULT = { '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;
const COMPARE_TARGET = {
  version: 'Version',
  create: 'Create',
  mod: 'Mod',
  value: 'Value',
} as const;

/**
 * An etcd client scoped to a key prefix: every key passed in is relative to the prefix and
 * every key returned has it stripped. Revisions are bigint. Errors from etcd are wrapped with
 * a code: `ERR_ETCD_UNAVAILABLE` (retry later), `ERR_ETCD_COMPACTED`, `ERR_ETCD_CLOSED`,
 * `ERR_ETCD_FAILED`.
 *
 * Create one with {@link createEtcdClient}; narrow it with {@link EtcdClient.withPrefix}.
 */
export class EtcdClient {
  /** The full key prefix of this client. */
  readonly prefix: string;
  /** The underlying etcd3 client (shared by every client derived with withPrefix). */
  readonly raw: Etcd3;
  private readonly prefixBuf: Buffer;
  private readonly owner: boolean;

  /** @internal use {@link createEtcdClient} */
  constructor(raw: Etcd3, prefix: string, owner: boolean) {
    this.raw = raw;
    this.prefix = prefix;
    this.prefixBuf = Buffer.from(prefix);
    this.owner = owner;
  }

  /** A client on the same connection whose prefix is this prefix + `sub`. Closing it is a no-op. */
  withPrefix(sub: string): EtcdClient {
    return new EtcdClient(this.raw, this.prefix + sub, false);
  }

  /** The full etcd key of a relative key. */
  fullKey(key: string): Buffer {
    return Buffer.concat([this.prefixBuf, Buffer.from(key)]);
  }

  /** The relative key of a full etcd key (undefined when it is not under the prefix). */
  relativeKey(full: Buffer): string | undefined {
    if (!full.subarray(0, this.prefixBuf.length).equals(this.prefixBuf)) return undefined;
    return full.subarray(this.prefixBuf.length).toString();
  }

  /** Converts an etcd3 key-value into a {@link KeyValue} with the prefix stripped. */
  toKeyValue(kv: IKeyValue): KeyValue {
    return {
      key: this.relativeKey(kv.key) ?? kv.key.toString(),
      value: kv.value,
      createRevision: toBigInt(kv.create_revision),
      modRevision: toBigInt(kv.mod_revision),
      version: toBigInt(kv.version),
      lease: kv.lease ?? '0',
    };
  }

  private requireKey(key: string): void {
    if (key === '' && this.prefix === '') throw invalidKey('etcd key must not be empty');
  }

  /** Reads one key; `kv` is undefined when it does not exist. */
  async get(
    key: string,
    options: { revision?: bigint } = {},
  ): Promise<{ kv: KeyValue | undefined; revision: bigint }> {
    this.requireKey(key);
    try {
      const res = await this.raw.kv.range({
        key: this.fullKey(key),
        ...(options.revision ? { revision: options.revision.toString() } : {}),
      });
      const kv = res.kvs[0];
      return { kv: kv ? this.toKeyValue(kv) : undefined, revision: toBigInt(res.header.revision) };
    } catch (err) {
      throw wrapEtcdError(err, `etcd get ${this.prefix}${key}`);
    }
  }

  /** Lists the keys under a relative prefix, in key order. */
  async list(prefix: string, options: ListOptions = {}): Promise<RangeResult> {
    const full = this.fullKey(prefix);
    const start =
      options.startAfter !== undefined
        ? Buffer.concat([this.fullKey(options.startAfter), Buffer.from([0])])
        : full.length === 0
          ? Buffer.from([0])
          : full;
    try {
      const res = await this.raw.kv.range({
        key: start,
        range_end: prefixEnd(full),
        sort_order: 'Ascend',
        sort_target: 'Key',
        ...(options.limit ? { limit: options.limit } : {}),
        ...(options.revision ? { revision: options.revision.toString() } : {}),
        ...(options.keysOnly ? { keys_only: true } : {}),
      });
      return {
        kvs: res.kvs.map((kv) => this.toKeyValue(kv)),
        revision: toBigInt(res.header.revision),
        more: res.more,
      };
    } catch (err) {
      throw wrapEtcdError(err, `etcd list ${this.prefix}${prefix}`);
    }
  }

  /**
   * Lists a prefix page by page, all pages at the revision of the first one (a consistent
   * snapshot however long the listing takes).
   */
  async *listPaged(
    prefix: string,
    options: { pageSize?: number; revision?: bigint; startAfter?: string } = {},
  ): AsyncGenerator<KeyValue[], bigint> {
    const pageSize = options.pageSize ?? 100;
    let revision = options.revision;
    let startAfter = options.startAfter;
    for (;;) {
      const page = await this.list(prefix, { limit: pageSize, revision, startAfter });
      revision ??= page.revision;
      if (page.kvs.length > 0) yield page.kvs;
      if (!page.more || page.kvs.length === 0) return revision;
      startAfter = page.kvs[page.kvs.length - 1]!.key;
    }
  }

  /** Writes a key; returns the new store revision. */
  async put(
    key: string,
    value: string | Buffer,
    options: { lease?: string } = {},
  ): Promise<bigint> {
    this.requireKey(key);
    try {
      const res = await this.raw.kv.put({
        key: this.fullKey(key),
        value: Buffer.from(value),
        ...(options.lease ? { lease: options.lease } : {}),
      });
      return toBigInt(res.header.revision);
    } catch (err) {
      throw wrapEtcdError(err, `etcd put ${this.prefix}${key}`);
    }
  }

  /** Deletes a key (or every key under it with `prefix`); returns how many were deleted. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<number> {
    if (!options.prefix) this.requireKey(key);
    const full = this.fullKey(key);
    try {
      const res = await this.raw.kv.deleteRange({
        key: full.length === 0 ? Buffer.from([0]) : full,
        ...(options.prefix ? { range_end: prefixEnd(full) } : {}),
      });
      return Number(res.deleted);
    } catch (err) {
      throw wrapEtcdError(err, `etcd delete ${this.prefix}${key}`);
    }
  }

  /** Runs a transaction: if every guard holds run `success`, else `failure`. */
  async txn(request: { compare?: Compare[]; success?: Op[]; failure?: Op[] }): Promise<TxnResult> {
    try {
      const res = await this.raw.kv.txn({
        compare: (request.compare ?? []).map((c) => ({
          key: this.fullKey(c.key),
          target: COMPARE_TARGET[c.target],
          result: COMPARE_RESULT[c.operator],
          ...(c.target === 'value'
            ? { value: Buffer.from(c.value as string | Buffer) }
            : c.target === 'mod'
              ? { mod_revision: String(c.value) }
              : c.target === 'create'
                ? { create_revision: String(c.value) }
                : { version: String(c.value) }),
        })),
        success: (request.success ?? []).map((op) => this.toRequestOp(op)),
        failure: (request.failure ?? []).map((op) => this.toRequestOp(op)),
      });
      return {
        succeeded: res.succeeded,
        revision: toBigInt(res.header.revision),
        responses: res.responses.map((r) => this.fromResponseOp(r)),
      };
    } catch (err) {
      throw wrapEtcdError(err, `etcd txn under ${this.prefix}`);
    }
  }

  /**
   * Puts `key` only when its mod revision is `expectedModRevision` (0n: only when it does not
   * exist). Returns the new revision.
   *
   * @throws `ERR_ETCD_CONFLICT` when the key changed in between.
   */
  async atomicPut(
    key: string,
    value: string | Buffer,
    expectedModRevision: bigint,
  ): Promise<bigint> {
    const res = await this.txn({
      compare: [{ key, target: 'mod', operator: '==', value: expectedModRevision }],
      success: [{ type: 'put', key, value }],
    });
    if (!res.succeeded) {
      throw newError(
        `etcd key ${this.prefix}${key} changed (expected mod revision ${expectedModRevision})`,
        {
          code: EtcdErrorCodes.Conflict,
        },
      );
    }
    return res.revision;
  }

  /**
   * Deletes `key` only when its mod revision is `expectedModRevision`.
   *
   * @throws `ERR_ETCD_CONFLICT` when the key changed in between or is gone.
   */
  async atomicDelete(key: string, expectedModRevision: bigint): Promise<bigint> {
    const res = await this.txn({
      compare: [{ key, target: 'mod', operator: '==', value: expectedModRevision }],
      success: [{ type: 'delete', key }],
    });
    if (!res.succeeded) {
      throw newError(
        `etcd key ${this.prefix}${key} changed (expected mod revision ${expectedModRevision})`,
        {
          code: EtcdErrorCodes.Conflict,
        },
      );
    }
    return res.revision;
  }

  /** The current store revision. */
  async currentRevision(): Promise<bigint> {
    // a range on a key that never exists still answers with the header revision
    return (await this.get('\u0000revision-probe')).revision;
  }

  /** Compacts the store's history up to `revision` (whole store, not only this prefix). */
  async compact(revision: bigint): Promise<void> {
    try {
      await this.raw.kv.compact({ revision: revision.toString(), physical: false });
    } catch (err) {
      throw wrapEtcdError(err, `etcd compact to ${revision}`);
    }
  }

  /**
   * Watches every key under a relative prefix from `startRevision`. Yields one
   * {@link WatchResponse} per etcd response (its events share one revision range). Ends with
   * `ERR_ETCD_COMPACTED` when the start revision is compacted, `ERR_ETCD_UNAVAILABLE` when the
   * connection drops (watch again from the last revision seen). Breaking out of the loop or
   * aborting `signal` cancels the watch.
   */
  watch(prefix: string, options: WatchOptions): AsyncGenerator<WatchResponse> {
    return watchPrefix(this, prefix, options);
  }

  /** Closes the connection (only the client made by {@link createEtcdClient} does). */
  close(): void {
    if (this.owner) this.raw.close();
  }

  private toRequestOp(op: Op): IRequestOp {
    const key = this.fullKey(op.key);
    switch (op.type) {
      case 'put':
        return {
          request_put: {
            key,
            value: Buffer.from(op.value),
            ...(op.lease ? { lease: op.lease } : {}),
          },
        };
      case 'delete':
        return {
          request_delete_range: { key, ...(op.prefix ? { range_end: prefixEnd(key) } : {}) },
        };
      case 'get':
        return {
          request_range: {
            key,
            ...(op.prefix ? { range_end: prefixEnd(key) } : {}),
            ...(op.prefix || op.sortBy
              ? {
                  sort_order: 'Ascend' as const,
                  sort_target: op.sortBy === 'create' ? ('Create' as const) : ('Key' as const),
                }
              : {}),
            ...(op.limit ? { limit: op.limit } : {}),
          },
        };
    }
  }

  private fromResponseOp(r: IResponseOp): TxnResponse {
    if (r.response_put) return { type: 'put', revision: toBigInt(r.response_put.header?.revision) };
    if (r.response_delete_range) {
      return { type: 'delete', deleted: Number(r.response_delete_range.deleted) };
    }
    const range = r.response_range;
    return {
      type: 'get',
      kvs: (range?.kvs ?? []).map((kv) => this.toKeyValue(kv)),
      more: range?.more ?? false,
    };
  }
}

/**
 * Connects to etcd (lazily: the first call connects). Fault handling is explicit: a failed
 * call is retried twice 100 ms apart on connection errors, then fails with
 * `ERR_ETCD_UNAVAILABLE`; no circuit breaker keeps failing calls after etcd is back.
 *
 * @example
 * ```ts
 * const etcd = createEtcdClient({ endpoints: 'http://127.0.0.1:2379', prefix: 'configstore/' });
 * await etcd.put('maintenance', '');
 * etcd.close();
 * ```
 */
export function createEtcdClient(options: EtcdClientOptions): EtcdClient {
  const hosts = Array.isArray(options.endpoints) ? options.endpoints : [options.endpoints];
  if (hosts.length === 0 || hosts.some((h) => !h)) {
    throw invalidKey('etcd endpoints must not be empty');
  }
  const raw = new Etcd3({
    hosts,
    // Streams (watch, lease keep-alive) live as long as they are used: no deadline for them.
    defaultCallOptions: (ctx) =>
      ctx.isStream ? {} : { deadline: Date.now() + (options.callTimeoutMs ?? 10_000) },
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), {
        maxAttempts: 2,
        backoff: new ConstantBackoff(100),
      }),
    },
  });
  return new EtcdClient(raw, options.prefix ?? '', true);
}

import { newError, wrap } from '@agola-ts/errors';
import type { EtcdClient } from './client.js';
import { EtcdErrorCodes } from './codes.js';
import { cmpModRevision, opPut } from './ops.js';

const PART_LENGTH = 13;
const MAX_UINT64 = (1n << 64n) - 1n;
const PART_RE = /^[0-9a-v]{13}$/;

/**
 * A sortable id `<epoch>-<counter>`, each part a zero-padded 13-character base32 number
 * (digits `0-9a-v`), as Agola's: string order equals numeric order. A sequence key that is
 * missing in etcd starts a new epoch, so readers can tell that etcd was reset.
 */
export class Sequence {
  constructor(
    /** Epoch: set when the sequence key was (re)created. */
    readonly epoch: bigint,
    /** Counter within the epoch, from 1. */
    readonly counter: bigint,
  ) {}

  /** Parses `<13 base32>-<13 base32>`. @throws `ERR_ETCD_INVALID_SEQUENCE` */
  static parse(text: string): Sequence {
    const [epoch, counter, extra] = text.split('-');
    if (
      extra !== undefined ||
      !epoch ||
      !counter ||
      !PART_RE.test(epoch) ||
      !PART_RE.test(counter)
    ) {
      throw newError(`invalid sequence "${text}"`, { code: EtcdErrorCodes.InvalidSequence });
    }
    return new Sequence(parseBase32(epoch), parseBase32(counter));
  }

  /** Compares two sequence strings or objects: negative, zero or positive. */
  static compare(a: Sequence | string, b: Sequence | string): number {
    const x = typeof a === 'string' ? a : a.toString();
    const y = typeof b === 'string' ? b : b.toString();
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** The 27-character sortable string. */
  toString(): string {
    return `${formatPart(this.epoch)}-${formatPart(this.counter)}`;
  }

  /** Max uint64 minus each part: sorts in the opposite order (descending ids). */
  reverse(): Sequence {
    return new Sequence(MAX_UINT64 - this.epoch, MAX_UINT64 - this.counter);
  }
}

function formatPart(n: bigint): string {
  return n.toString(32).padStart(PART_LENGTH, '0');
}

function parseBase32(text: string): bigint {
  let n = 0n;
  for (const ch of text) n = n * 32n + BigInt(parseInt(ch, 32));
  return n;
}

/** The epoch part of a sequence string, for "was etcd reset?" checks. */
export function sequenceEpoch(text: string): bigint {
  return Sequence.parse(text).epoch;
}

/** Options of {@link incSequence}. */
export interface IncSequenceOptions {
  /**
   * Epoch for a new sequence. @default Date.now() (milliseconds: two etcd resets within one
   * second still get distinct, increasing epochs; Agola uses seconds)
   */
  now?: () => bigint;
}

/**
 * Increments the sequence stored at `key` (JSON `{"Epoch": n, "C": n}`, as Agola) and
 * returns the new value. A missing key starts a new epoch. Concurrent increments retry on
 * conflict, so every caller gets a distinct value.
 *
 * @throws `ERR_ETCD_INVALID_SEQUENCE` when the key holds something else.
 */
export async function incSequence(
  client: EtcdClient,
  key: string,
  options: IncSequenceOptions = {},
): Promise<Sequence> {
  const now = options.now ?? (() => BigInt(Date.now()));
  for (;;) {
    const { kv } = await client.get(key);
    let next: Sequence;
    if (!kv) {
      next = new Sequence(now(), 1n);
    } else {
      const cur = parseStored(kv.value, `${client.prefix}${key}`);
      next = new Sequence(cur.epoch === 0n ? now() : cur.epoch, cur.counter + 1n);
    }
    const res = await client.txn({
      compare: [cmpModRevision(key, '==', kv?.modRevision ?? 0n)],
      success: [opPut(key, `{"Epoch":${next.epoch},"C":${next.counter}}`)],
    });
    if (res.succeeded) return next;
  }
}

function parseStored(value: Buffer, where: string): Sequence {
  const text = value.toString();
  // Parse the numbers as BigInt: JSON.parse would round counters above 2^53.
  const m = /^\s*\{\s*"Epoch"\s*:\s*(\d+)\s*,\s*"C"\s*:\s*(\d+)\s*\}\s*$/.exec(text);
  if (!m) {
    try {
      const obj = JSON.parse(text) as { Epoch?: unknown; C?: unknown };
      if (typeof obj.Epoch === 'number' && typeof obj.C === 'number') {
        return new Sequence(BigInt(obj.Epoch), BigInt(obj.C));
      }
    } catch (err) {
      throw wrap(err, `sequence ${where} holds invalid JSON`, {
        code: EtcdErrorCodes.InvalidSequence,
      });
    }
    throw newError(`sequence ${where} holds ${JSON.stringify(text.slice(0, 100))}`, {
      code: EtcdErrorCodes.InvalidSequence,
    });
  }
  return new Sequence(BigInt(m[1]!), BigInt(m[2]!));
}

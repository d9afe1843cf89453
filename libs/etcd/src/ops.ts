/** Comparison targets of a transaction guard. */
export type CompareTarget = 'version' | 'create' | 'mod' | 'value';
/** Comparison operators of a transaction guard. */
export type CompareOperator = '==' | '!=' | '<' | '>';

/** One guard of a transaction (`IF` part). Keys are relative to the client's prefix. */
export interface Compare {
  key: string;
  target: CompareTarget;
  operator: CompareOperator;
  /** A revision or version (bigint), or the value to compare with (`target: 'value'`). */
  value: bigint | string | Buffer;
}

/** One operation of a transaction (`THEN` / `ELSE` part). Keys are relative to the prefix. */
export type Op =
  | { type: 'put'; key: string; value: string | Buffer; lease?: string }
  | { type: 'delete'; key: string; prefix?: boolean }
  | { type: 'get'; key: string; prefix?: boolean; limit?: number; sortBy?: 'key' | 'create' };

/** `ModRevision(key) <op> rev` (0n: the key does not exist). */
export function cmpModRevision(key: string, operator: CompareOperator, rev: bigint): Compare {
  return { key, target: 'mod', operator, value: rev };
}

/** `CreateRevision(key) <op> rev`; `cmpCreateRevision(k, '==', 0n)` means "k does not exist". */
export function cmpCreateRevision(key: string, operator: CompareOperator, rev: bigint): Compare {
  return { key, target: 'create', operator, value: rev };
}

/** `Version(key) <op> v`; version 0 means the key does not exist. */
export function cmpVersion(key: string, operator: CompareOperator, version: bigint): Compare {
  return { key, target: 'version', operator, value: version };
}

/** A put operation. */
export function opPut(key: string, value: string | Buffer, options: { lease?: string } = {}): Op {
  return { type: 'put', key, value, ...options };
}

/** A delete operation (of the key, or of every key under it with `prefix`). */
export function opDelete(key: string, options: { prefix?: boolean } = {}): Op {
  return { type: 'delete', key, ...options };
}

/**
 * A get operation (of the key, or of every key under it with `prefix`), in key order or, with
 * `sortBy: 'create'`, oldest first.
 */
export function opGet(
  key: string,
  options: { prefix?: boolean; limit?: number; sortBy?: 'key' | 'create' } = {},
): Op {
  return { type: 'get', key, ...options };
}

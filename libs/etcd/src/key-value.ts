/** One key of etcd, with its key relative to the client's prefix and revisions as bigint. */
export interface KeyValue {
  key: string;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  /** Lease id ('0' when none). */
  lease: string;
}

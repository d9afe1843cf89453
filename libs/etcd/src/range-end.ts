/**
 * The smallest key strictly greater than every key that starts with `prefix` (etcd's
 * `range_end` for a prefix). An empty or all-0xff prefix ranges to the end of the keyspace.
 */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

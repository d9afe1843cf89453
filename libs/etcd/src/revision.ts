/**
 * etcd's int64 revisions, versions and lease ids arrive as decimal strings; compare them as
 * BigInt, never as strings or floats.
 */
export function toBigInt(value: string | number | bigint | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  return BigInt(value);
}

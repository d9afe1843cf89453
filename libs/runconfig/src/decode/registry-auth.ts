import type { RegistriesAuth, RegistryAuth } from '../types.js';
import { setOwn, type PathSegment } from '../path.js';
import { decodeValue } from './value.js';
import type { Reader } from './reader.js';

/** Decodes a `docker_registries_auth` map (registry host → auth); type defaults to `basic`. */
export function decodeRegistriesAuth(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): RegistriesAuth {
  const out: RegistriesAuth = {};
  const map = r.map(raw, path);
  if (!map) return out;
  for (const [host, value] of Object.entries(map)) {
    const p = [...path, host];
    const entry = r.map(value, p);
    if (!entry) {
      if (value === null || value === undefined) r.fail(p, 'expected a map, got null');
      continue;
    }
    r.knownKeys(entry, p, ['type', 'username', 'password', 'auth']);
    const type = r.string(entry['type'], [...p, 'type']) ?? 'basic';
    if (type !== 'basic' && type !== 'encodedauth') {
      r.fail(
        [...p, 'type'],
        `unknown auth type ${JSON.stringify(type)} (expected basic or encodedauth)`,
      );
      continue;
    }
    const auth: RegistryAuth = { type };
    for (const field of ['username', 'password', 'auth'] as const) {
      const v = decodeValue(r, entry[field], [...p, field]);
      if (v) auth[field] = v;
    }
    setOwn(out, host, auth);
  }
  return out;
}

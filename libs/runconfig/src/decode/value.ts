import type { ConfigValue } from '../types.js';
import { setOwn, type PathSegment } from '../path.js';
import { isMap, type Reader } from './reader.js';

const VALUE_FORMAT = 'expected a string or {from_variable: <name>}';

/** Decodes a Value: a plain string or `{from_variable: name}`. */
export function decodeValue(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): ConfigValue | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return { type: 'string', value: raw };
  if (isMap(raw)) {
    const issues = r.issues.length;
    r.knownKeys(raw, path, ['from_variable']);
    if (typeof raw['from_variable'] === 'string' && r.issues.length === issues) {
      return { type: 'from_variable', variable: raw['from_variable'] };
    }
    if (r.issues.length > issues) return undefined;
  }
  r.fail(path, VALUE_FORMAT);
  return undefined;
}

/** Decodes an environment map (name → Value). */
export function decodeEnvironment(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  const map = r.map(raw, path);
  if (!map) return out;
  for (const [name, v] of Object.entries(map)) {
    const value = decodeValue(r, v, [...path, name]);
    if (value) setOwn(out, name, value);
    else if (v === null || v === undefined) r.fail([...path, name], VALUE_FORMAT);
  }
  return out;
}

import { isValidName } from '@agola-ts/types';
import { invalid } from './errors.js';

/** A JSON request body as an object, or a 400. */
export function objectBody(body: unknown, what = 'request body'): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** An optional string field: absent (or null) gives undefined, another type a 400. */
export function optString(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${field} must be a string`);
  return v;
}

/** A required non-empty string field. */
export function reqString(o: Record<string, unknown>, field: string): string {
  const v = optString(o, field);
  if (v === undefined || v === '') throw invalid(`${field} is required`);
  return v;
}

/** An optional boolean field. */
export function optBool(o: Record<string, unknown>, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${field} must be a boolean`);
  return v;
}

/** An optional RFC3339 time field, normalized to ISO form. */
export function optTime(o: Record<string, unknown>, field: string): string | undefined {
  const v = optString(o, field);
  if (v === undefined || v === '') return undefined;
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(Date.parse(v))) {
    throw invalid(`${field} must be an RFC3339 time`);
  }
  return v;
}

/** A required, valid name field. */
export function reqName(o: Record<string, unknown>, field: string, what: string): string {
  const v = reqString(o, field);
  if (!isValidName(v)) throw invalid(`invalid ${what} name ${JSON.stringify(v)} (${field})`);
  return v;
}

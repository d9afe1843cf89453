import type { FastifyRequest } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import { DEFAULT_LIST_LIMIT, isValidName, MAX_LIST_LIMIT, type ListOptions } from '@agola-ts/types';
import { GatewayErrorCodes } from './codes.js';

/** Longest string field accepted in a request body (names, paths, URLs, passwords). */
export const MAX_FIELD_LENGTH = 4096;
/** Longest secret value (PEM keys and the like fit). */
export const MAX_SECRET_VALUE_LENGTH = 256 * 1024;

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest, callerOf: invalid });

/** The JSON object body of a request (an absent body is `{}`). @throws 400 for anything else. */
export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const body = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** An optional string field: `undefined` when absent or null. @throws 400 for another type or too long. */
export function optString(
  body: Record<string, unknown>,
  field: string,
  max = MAX_FIELD_LENGTH,
): string | undefined {
  const v = Object.hasOwn(body, field) ? body[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${field} must be a string`);
  if (v.length > max) throw invalid(`${field} is longer than ${max} characters`);
  return v;
}

/** A string field, '' when absent. @throws 400 for another type or too long. */
export function str(body: Record<string, unknown>, field: string, max = MAX_FIELD_LENGTH): string {
  return optString(body, field, max) ?? '';
}

/** A required non-empty string field. @throws 400 `<what> required`. */
export function requiredString(body: Record<string, unknown>, field: string, what: string): string {
  const v = str(body, field);
  if (v === '') throw invalid(`${what} required`);
  return v;
}

/** An optional boolean field. @throws 400 for another type. */
export function optBool(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = Object.hasOwn(body, field) ? body[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${field} must be a boolean`);
  return v;
}

/** A valid Agola name. @throws 400 `invalid <what> name`. */
export function validName(name: string, what: string): string {
  if (!isValidName(name))
    throw invalid(`invalid ${what} name ${JSON.stringify(name.slice(0, 100))}`);
  return name;
}

/** The visibility field (default `public`, as Agola's zero value is refused downstream). */
export function visibilityOf(
  body: Record<string, unknown>,
  field = 'visibility',
): 'public' | 'private' | undefined {
  const v = optString(body, field);
  if (v === undefined || v === '') return undefined;
  if (v !== 'public' && v !== 'private')
    throw invalid(`invalid ${field} ${JSON.stringify(v.slice(0, 50))}`);
  return v;
}

/** The query string as a plain object with own properties only. */
export function queryOf(req: FastifyRequest): Record<string, unknown> {
  const q = req.query;
  return q !== null && typeof q === 'object' ? (q as Record<string, unknown>) : {};
}

/** True when the query has `key` (with any value, `?tree` included). */
export function hasQueryFlag(req: FastifyRequest, key: string): boolean {
  return Object.hasOwn(queryOf(req), key);
}

/** A single query value (the first of repeated ones). */
export function queryString(req: FastifyRequest, key: string): string | undefined {
  const q = queryOf(req);
  if (!Object.hasOwn(q, key)) return undefined;
  const v = q[key];
  const first = Array.isArray(v) ? (v[0] as unknown) : v;
  return typeof first === 'string' ? first : undefined;
}

/**
 * `?limit&start&asc` of the entity lists (users, orgs, remote sources): limit default 10,
 * capped at 20 (the configstore's maximum).
 *
 * @throws 400 for a limit that is not a non-negative integer.
 */
export function listOptionsOf(req: FastifyRequest): ListOptions {
  const limitS = queryString(req, 'limit');
  let limit = DEFAULT_LIST_LIMIT;
  if (limitS !== undefined && limitS !== '') {
    if (!/^\d{1,9}$/.test(limitS)) throw invalid('cannot parse limit');
    limit = Math.min(Number(limitS), MAX_LIST_LIMIT);
  }
  const start = queryString(req, 'start');
  if (start !== undefined && start.length > MAX_FIELD_LENGTH) throw invalid('start is too long');
  return {
    limit,
    ...(start ? { start } : {}),
    ...(hasQueryFlag(req, 'asc') ? { asc: true } : {}),
  };
}

/** A path parameter. */
export function param(req: FastifyRequest, name: string): string {
  const params = req.params as Record<string, unknown>;
  const v = Object.hasOwn(params, name) ? params[name] : undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`missing ${name}`);
  return v;
}

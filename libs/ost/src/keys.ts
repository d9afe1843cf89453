import { newError } from '@agola-ts/errors';
import { OstErrorCodes } from './codes.js';

function invalid(what: string, value: string, why: string): Error {
  return newError(`invalid ${what} ${JSON.stringify(value)}: ${why}`, {
    code: OstErrorCodes.InvalidKey,
  });
}

function checkSegments(what: string, value: string, segments: string[]): void {
  for (const segment of segments) {
    if (segment === '') throw invalid(what, value, 'empty path segment');
    if (segment === '.' || segment === '..') throw invalid(what, value, `"${segment}" segment`);
  }
}

function checkCommon(what: string, value: string): void {
  if (typeof value !== 'string') throw invalid(what, String(value), 'not a string');
  if (value.startsWith('/')) throw invalid(what, value, 'leading "/"');
  if (value.includes('\0')) throw invalid(what, value, 'NUL character');
}

/**
 * Checks an object key: not empty, no leading `/`, no empty, `.` or `..` segment, no NUL.
 * @throws `ERR_OST_INVALID_KEY`
 */
export function validateKey(key: string): void {
  checkCommon('key', key);
  if (key === '') throw invalid('key', key, 'empty');
  checkSegments('key', key, key.split('/'));
}

/**
 * Checks a list prefix: `''`, or like a key but it may end with `/` and its last segment may be
 * a partial name (`'wals/sta'`); `.` and `..` are rejected only as complete segments.
 * @throws `ERR_OST_INVALID_KEY`
 */
export function validatePrefix(prefix: string): void {
  checkCommon('prefix', prefix);
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  checkSegments('prefix', prefix, segments);
  // A partial last segment '.' could still match '.x'; only a complete one is a traversal.
  if (last === '..' && prefix.endsWith('/')) throw invalid('prefix', prefix, '".." segment');
}

/**
 * Normalises a base path: `''` stays empty, anything else must be a valid key and gets a
 * trailing `/`.
 * @throws `ERR_OST_INVALID_KEY`
 */
export function normalizeBasePath(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '') return '';
  const trimmed = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  checkCommon('base path', basePath);
  if (trimmed === '') throw invalid('base path', basePath, 'empty');
  checkSegments('base path', basePath, trimmed.split('/'));
  return `${trimmed}/`;
}

/** Maps a UTF-16 code unit so that comparing mapped units orders strings by code point. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000; // surrogates sort above the BMP
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/**
 * Compares keys in Unicode code point order, which equals UTF-8 byte order (S3's order).
 * Plain `<` compares UTF-16 code units and puts astral characters (emoji) before U+E000-U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

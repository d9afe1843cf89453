import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  ApiError,
  API_ERROR_KINDS,
  badRequest,
  forbidden,
  internalError,
  kindOfError,
  kindOfStatus,
  newError,
  notExist,
  statusOfKind,
  toHttpError,
  unauthorized,
  wrap,
} from './index.js';

describe('API error kinds and HTTP mapping', () => {
  test.each([
    ['badrequest', 400, 'ERR_BAD_REQUEST', badRequest],
    ['notexist', 404, 'ERR_NOT_EXIST', notExist],
    ['forbidden', 403, 'ERR_FORBIDDEN', forbidden],
    ['unauthorized', 401, 'ERR_UNAUTHORIZED', unauthorized],
  ] as const)('%s -> %d with its message and default code', (kind, status, code, make) => {
    const err = make(`something about ${kind}`);
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(statusOfKind(kind)).toBe(status);
    expect(kindOfStatus(status)).toBe(kind);
    expect(toHttpError(err)).toEqual({
      status,
      kind,
      body: { code, message: `something about ${kind}` },
    });
  });

  test('every kind is mapped', () => {
    expect(API_ERROR_KINDS.map(statusOfKind)).toEqual([400, 404, 403, 401, 500]);
  });

  test('an API error deep in a chain decides status, code and message; causes stay private', () => {
    const cause = new Error('SQLITE_CONSTRAINT: UNIQUE constraint failed: users.name');
    const api = badRequest('user "alice" already exists', { code: 'ERR_TEST_USER_EXISTS', cause });
    const err = wrap(wrap(api, 'creating user'), 'handler');
    expect(toHttpError(err)).toEqual({
      status: 400,
      kind: 'badrequest',
      body: { code: 'ERR_TEST_USER_EXISTS', message: 'user "alice" already exists' },
    });
    expect(kindOfError(err)).toBe('badrequest');
    // the full chain is still there for the log
    expect(err.message).toBe(
      'handler: creating user: user "alice" already exists: SQLITE_CONSTRAINT: UNIQUE constraint failed: users.name',
    );
  });

  test('an API error without its own message shows its cause text', () => {
    const err = new ApiError('notexist', '', { cause: newError('project "p1" not found') });
    expect(toHttpError(err).body.message).toBe('project "p1" not found');
  });

  test('internal errors and chains without an API error say only "internal server error"', () => {
    const secret = new Error('password=hunter2 rejected by db');
    expect(toHttpError(wrap(secret, 'login'))).toEqual({
      status: 500,
      kind: 'internal',
      body: { code: 'ERR_INTERNAL', message: 'internal server error' },
    });
    expect(toHttpError(internalError('db exploded', { cause: secret }))).toEqual({
      status: 500,
      kind: 'internal',
      body: { code: 'ERR_INTERNAL', message: 'internal server error' },
    });
    expect(toHttpError('a string').status).toBe(500);
    expect(kindOfError(new Error('x'))).toBe('internal');
  });

  test('unknown statuses map to internal', () => {
    for (const s of [418, 409, 502, 503, 0]) expect(kindOfStatus(s)).toBe('internal');
  });
});

describe('API error helpers record the caller', () => {
  test.each([
    ['badRequest', badRequest],
    ['notExist', notExist],
    ['forbidden', forbidden],
    ['unauthorized', unauthorized],
    ['internalError', internalError],
  ] as const)('%s records the file:line of its caller', (_name, make) => {
    const line = new Error().stack?.split('\n')[1]?.match(/:(\d+):\d+\)?$/)?.[1];
    const err = make('boom'); // the line after the one above
    expect(err.frame?.file).toBe(fileURLToPath(import.meta.url));
    expect(err.frame?.line).toBe(Number(line) + 1);
  });

  test('new ApiError records the caller of the constructor', () => {
    const line = new Error().stack?.split('\n')[1]?.match(/:(\d+):\d+\)?$/)?.[1];
    const err = new ApiError('badrequest', 'boom');
    expect(err.frame?.file).toBe(fileURLToPath(import.meta.url));
    expect(err.frame?.line).toBe(Number(line) + 1);
  });
});

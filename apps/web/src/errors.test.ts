import { describe, expect, it } from 'vitest';
import { AgolaError, parseRemoteError } from '@agola-ts/errors';
import { GatewayClientErrorCodes } from '@agola-ts/gateway-client';
import { describeError } from './errors.js';

const remote = (status: number, body: unknown) => parseRemoteError(status, JSON.stringify(body))!;

describe('describeError: API errors as sentences', () => {
  it("keeps the gateway's message and says what kind of failure it is", () => {
    expect(
      describeError(remote(404, { code: 'ERR_NOT_EXIST', message: 'project "p1" doesn\'t exist' })),
    ).toBe('Not found: Project "p1" doesn\'t exist.');
    expect(describeError(remote(403, { code: '', message: 'user not authorized' }))).toBe(
      'You are not allowed to do this: User not authorized.',
    );
    expect(describeError(remote(400, { code: '', message: 'invalid project name "a b"' }))).toBe(
      'The server refused the request: Invalid project name "a b".',
    );
    expect(describeError(remote(500, { code: '', message: 'etcd unavailable' }))).toBe(
      'The server failed to answer: Etcd unavailable. Try again in a moment.',
    );
  });

  it('without a message, still a whole sentence; 401 asks to log in again', () => {
    expect(describeError(remote(404, {}))).toBe(
      'Not found. It may have been deleted, or the link is wrong.',
    );
    expect(describeError(remote(401, { message: 'token expired' }))).toBe(
      'You are not logged in, or your session has expired. Please log in again.',
    );
    // an HTML error page from a proxy: no JSON body
    expect(describeError(parseRemoteError(502, '<html>Bad gateway</html>'))).toBe(
      'The server failed to answer. Try again in a moment.',
    );
  });

  it('requests without an answer name the cause, found through the cause chain', () => {
    const unreachable = new AgolaError('gateway GET /user: cannot connect (ECONNREFUSED)', {
      code: GatewayClientErrorCodes.Unreachable,
    });
    expect(describeError(new Error('loading', { cause: unreachable }))).toBe(
      'The Agola server cannot be reached. Check your connection and try again.',
    );
    expect(describeError(new AgolaError('t', { code: GatewayClientErrorCodes.Timeout }))).toMatch(
      /took too long/,
    );
    expect(describeError(new Error('a plain problem'))).toBe('A plain problem.');
    expect(describeError('a string')).toBe('Something went wrong.');
  });
});

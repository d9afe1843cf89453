import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { newError, RemoteError, wrap } from '@agola-ts/errors';
import { secretDataOf, variableValuesOf } from '../commands/items.js';
import { debugFetch } from './client.js';
import { errorLine, exitCodeOf, formatCliError, UsageError } from './errors.js';
import { formatBytes, formatTable, progress } from './output.js';
import { requireOneOf } from './program.js';
import { enumArg, intArg, isValidName, nameArg, nameValueArg } from './validate.js';

describe('formatTable', () => {
  it('aligns columns under an upper-case header, the last column unpadded', () => {
    const rows = [
      { a: 'x', b: 'long value', c: 1 },
      { a: 'longer', b: 'v', c: null },
    ];
    const text = formatTable(rows, [
      { header: 'name', value: (r) => r.a },
      { header: 'b', value: (r) => r.b },
      { header: 'count', value: (r) => r.c },
    ]);
    expect(text).toBe('NAME    B           COUNT\n' + 'x       long value  1\n' + 'longer  v\n');
  });

  it('keeps each cell on one line', () => {
    expect(formatTable([{ v: 'a\nb\tc' }], [{ header: 'v', value: (r) => r.v }])).toBe(
      'V\na b c\n',
    );
  });
});

describe('validators', () => {
  it('names follow Agola: a letter first, letters, digits, single dashes', () => {
    for (const ok of ['a', 'abc-d1', 'A1-b-2']) expect(isValidName(ok)).toBe(true);
    for (const bad of ['', '1a', 'a_b', 'a--b', 'a-', '-a', 'a b', 'x'.repeat(300)])
      expect(isValidName(bad)).toBe(false);
    expect(() => nameArg('a_b')).toThrow(InvalidArgumentError);
  });

  it('enums, integers and name=value pairs', () => {
    expect(enumArg(['a', 'b'])('b')).toBe('b');
    expect(() => enumArg(['a', 'b'])('c')).toThrow('must be one of a, b');
    expect(intArg('42')).toBe(42);
    expect(() => intArg('-1')).toThrow(InvalidArgumentError);
    expect(() => intArg('1e3')).toThrow(InvalidArgumentError);
    let m = nameValueArg('a=1', undefined);
    m = nameValueArg('b=x=y', m);
    m = nameValueArg('a=2', m);
    expect([...m]).toEqual([
      ['a', '2'],
      ['b', 'x=y'],
    ]);
    expect(() => nameValueArg('=1', undefined)).toThrow('must be name=value');
    expect(() => nameValueArg('novalue', undefined)).toThrow('must be name=value');
    expect(() => nameValueArg('bad_name=1', undefined)).toThrow('name "bad_name"');
    // a user-supplied name is a plain key
    expect(nameValueArg('constructor=1', undefined).get('constructor')).toBe('1');
  });

  it('requireOneOf: exactly one (or at most one), else a usage error', () => {
    expect(requireOneOf({ project: 'p' }, ['project', 'username'])).toBe('project');
    expect(() => requireOneOf({}, ['project', 'username'])).toThrow(
      'one of --project, --username is required',
    );
    expect(() => requireOneOf({ project: 'p', username: 'u' }, ['project', 'username'])).toThrow(
      'only one of',
    );
    expect(requireOneOf({}, ['taskName'], { atMost: true })).toBeUndefined();
    expect(() => requireOneOf({}, ['taskName'])).toThrow('--task-name');
  });
});

describe('errors', () => {
  const remote = new RemoteError({
    status: 404,
    kind: 'notexist',
    remoteCode: 'ERR_CONFIGSTORE_NOT_EXIST',
    remoteMessage: 'org "x" does not exist',
  });

  it("one line: the chain's own messages, a gateway error as its message, status and code", () => {
    expect(errorLine(wrap(remote, 'listing members'))).toBe(
      'listing members: org "x" does not exist (404 ERR_CONFIGSTORE_NOT_EXIST)',
    );
    expect(formatCliError(remote, false)).toBe(
      'agola: org "x" does not exist (404 ERR_CONFIGSTORE_NOT_EXIST)',
    );
  });

  it('detailed: the line, then one line per element with its file:line', () => {
    const text = formatCliError(wrap(newError('root cause'), 'doing it'), true).split('\n');
    expect(text[0]).toBe('agola: doing it: root cause');
    expect(text[1]).toBe('error details:');
    expect(text).toHaveLength(4);
    expect(text[2]).toMatch(/^ {2}AgolaError\[\w+\] at .+ \(.+cli\.test\.ts:\d+\): doing it$/);
    expect(text[3]).toMatch(/^ {2}AgolaError\[\w+\] at .+: root cause$/);
  });

  it('usage errors exit 2, anything else 1', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(wrap(new UsageError('x'), 'y'))).toBe(2);
    expect(exitCodeOf(remote)).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});

describe('secret and variable files', () => {
  it('a secret is a map of strings (numbers and booleans as text)', () => {
    expect(secretDataOf({ a: 'x', port: 5432, on: true })).toEqual({
      a: 'x',
      port: '5432',
      on: 'true',
    });
    expect(() => secretDataOf(['a'])).toThrow('YAML map');
    expect(() => secretDataOf({ a: { b: 1 } })).toThrow('secret value "a" must be a string');
  });

  it('a variable is a list of secret references', () => {
    expect(
      variableValuesOf([{ secret_name: 's', secret_var: 'v', when: { branch: 'main' } }]),
    ).toEqual([{ secret_name: 's', secret_var: 'v', when: { branch: 'main' } }]);
    expect(() => variableValuesOf({ secret_name: 's' })).toThrow('YAML list');
    expect(() => variableValuesOf([{ secret_name: 's' }])).toThrow(
      'variable value 0 needs string secret_name and secret_var',
    );
  });
});

describe('debugFetch', () => {
  it('prints method, path and status, never the query or the headers', async () => {
    const lines: string[] = [];
    const inner = (async () => new Response('{}', { status: 404 })) as typeof fetch;
    const f = debugFetch(inner, (l) => lines.push(l));
    await f('http://gw.test/api/v1alpha/orgs/x?token=secret-q', {
      method: 'DELETE',
      headers: { authorization: 'token secret-h' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^agola debug: DELETE \/api\/v1alpha\/orgs\/x -> 404 \(\d+ ms\)\n$/);
  });
});

describe('formatBytes', () => {
  it('B, KiB, MiB', () => {
    expect(formatBytes(10)).toBe('10 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});

describe('progress', () => {
  const fakeStream = (isTTY: boolean) => {
    const written: string[] = [];
    const stream = {
      isTTY,
      write: (t: string) => written.push(t),
    } as unknown as NodeJS.WriteStream;
    return { stream, written };
  };

  it('rewrites one line on a terminal and clears it when done', () => {
    const { stream, written } = fakeStream(true);
    const p = progress(stream);
    p.update('exporting 1.0 KiB');
    p.update('exporting 2.0 KiB');
    p.done('exported');
    expect(written).toEqual([
      '\r\x1b[2Kexporting 1.0 KiB',
      '\r\x1b[2Kexporting 2.0 KiB',
      '\r\x1b[2K',
      'exported\n',
    ]);
  });

  it('prints nothing when stderr is not a terminal (pipes, scripts, CI)', () => {
    const { stream, written } = fakeStream(false);
    const p = progress(stream);
    p.update('exporting');
    p.done('exported');
    expect(written).toEqual([]);
  });
});

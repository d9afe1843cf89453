import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  AgolaError,
  ErrorCodes,
  NonErrorThrown,
  errorDetails,
  errorf,
  formatError,
  newError,
  withStack,
  wrap,
  wrapf,
} from './index.js';

const thisFile = fileURLToPath(import.meta.url);
/** Line number of the line holding a marker comment, so expectations stay exact. */
function lineOf(marker: string): number {
  const lines = readFileSync(thisFile, 'utf8').split('\n');
  const idx = lines.findIndex((l) => l.trimEnd().endsWith(`// @${marker}`));
  if (idx < 0) throw new Error(`marker ${marker} not found`);
  return idx + 1;
}

const tick = () => new Promise((r) => setTimeout(r, 1));

async function storageLayer(): Promise<never> {
  await tick();
  throw newError('disk full', { code: 'ERR_TEST_DISK_FULL' }); // @root
}

async function walLayer(): Promise<void> {
  try {
    await storageLayer();
  } catch (err) {
    await tick();
    throw withStack(err); // @withstack
  }
}

async function checkpointLayer(seq: number): Promise<void> {
  try {
    await walLayer();
  } catch (err) {
    throw wrapf(err, 'writing wal %d', seq); // @wrapf
  }
}

async function serviceLayer(): Promise<void> {
  try {
    await checkpointLayer(42);
  } catch (err) {
    throw wrap(err, 'checkpoint'); // @wrap
  }
}

describe('wrapping across async boundaries', () => {
  test('a chain of four layers records a frame per layer', async () => {
    const err = await serviceLayer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgolaError);
    const e = err as AgolaError;
    expect(e.message).toBe('checkpoint: writing wal 42: disk full');
    expect(e.code).toBe('ERR_TEST_DISK_FULL');
    expect(e.ownMessage).toBe('checkpoint');

    const file = 'src/wrap.test.ts';
    expect(errorDetails(e)).toEqual([
      `AgolaError[ERR_TEST_DISK_FULL] at serviceLayer (${file}:${lineOf('wrap')}): checkpoint`,
      `AgolaError[ERR_TEST_DISK_FULL] at checkpointLayer (${file}:${lineOf('wrapf')}): writing wal 42`,
      `AgolaError[ERR_TEST_DISK_FULL] at walLayer (${file}:${lineOf('withstack')})`,
      `AgolaError[ERR_TEST_DISK_FULL] at storageLayer (${file}:${lineOf('root')}): disk full`,
    ]);
    expect(formatError(e)).toBe('checkpoint: writing wal 42: disk full');
    expect(formatError(e, { detailed: true })).toBe(
      [
        'checkpoint: writing wal 42: disk full',
        'error details:',
        ...errorDetails(e).map((l) => `  ${l}`),
      ].join('\n'),
    );
  });

  test('the stack property lists one frame per wrap, not a full V8 stack', async () => {
    const err = (await serviceLayer().catch((e: unknown) => e)) as AgolaError;
    const lines = err.stack!.split('\n');
    expect(lines[0]).toBe('AgolaError [ERR_TEST_DISK_FULL]: checkpoint: writing wal 42: disk full');
    expect(lines.slice(1).map((l) => l.replace(/ \(.*\)$/, ''))).toEqual([
      '    at serviceLayer',
      '    at checkpointLayer',
      '    at walLayer',
      '    at storageLayer',
    ]);
    expect(lines[1]).toContain(`${thisFile}:${lineOf('wrap')}:`);
  });
});

describe('third-party errors', () => {
  test('a Node system error stays the cause, with its code visible', async () => {
    const { readFile } = await import('node:fs/promises');
    const sysErr = await readFile('/definitely/not/here').catch((e: unknown) => e);
    const err = wrap(sysErr, 'reading config');
    expect(err.cause).toBe(sysErr);
    expect(err.message).toBe(
      "reading config: ENOENT: no such file or directory, open '/definitely/not/here'",
    );
    expect(err.code).toBe(ErrorCodes.Unknown);
    const details = errorDetails(err);
    expect(details).toHaveLength(2);
    expect(details[1]).toMatch(
      /^Error\[ENOENT\]( at .*)?: ENOENT: no such file or directory, open '\/definitely\/not\/here'$/,
    );
  });

  test('an error with its own ES2022 cause chain is printed whole', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const fetchErr = new TypeError('fetch failed', { cause: inner });
    const err = wrap(fetchErr, 'calling configstore');
    expect(err.message).toBe('calling configstore: fetch failed: connect ECONNREFUSED 127.0.0.1:1');
    const details = errorDetails(err);
    expect(details[1]).toMatch(/^TypeError at .*: fetch failed$/);
    expect(details[2]).toMatch(
      /^Error\[ECONNREFUSED\] at .*: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });
});

describe('non-Error throwables', () => {
  test.each([
    ['a string', 'boom', 'doing x: boom'],
    ['a number', 42, 'doing x: non-error thrown: 42'],
    ['undefined', undefined, 'doing x: non-error thrown: undefined'],
    ['null', null, 'doing x: non-error thrown: null'],
    ['an object', { reason: 'nope' }, 'doing x: non-error thrown: {"reason":"nope"}'],
  ])('%s becomes a NonErrorThrown cause', (_name, thrown, text) => {
    const err = wrap(thrown, 'doing x');
    expect(err.message).toBe(text);
    expect(err.cause).toBeInstanceOf(NonErrorThrown);
    expect((err.cause as NonErrorThrown).value).toBe(thrown);
  });

  test('a cyclic object is described without throwing', () => {
    const obj: Record<string, unknown> = {};
    obj['self'] = obj;
    expect(wrap(obj, 'x').message).toBe('x: non-error thrown: [object Object]');
  });
});

describe('codes and formatting', () => {
  test('wrap keeps the cause code unless given one', () => {
    const root = newError('gone', { code: 'ERR_TEST_GONE' });
    expect(wrap(root, 'a').code).toBe('ERR_TEST_GONE');
    expect(wrap(root, 'a', { code: 'ERR_TEST_OTHER' }).code).toBe('ERR_TEST_OTHER');
    expect(newError('plain').code).toBe(ErrorCodes.Unknown);
  });

  test('errorf formats like util.format', () => {
    const err = errorf('bad value %s at %d: %j', 'x', 3, { a: 1 });
    expect(err.message).toBe('bad value x at 3: {"a":1}');
    expect(err.frame?.function).toBeDefined();
  });

  test('withStack adds no text', () => {
    const err = withStack(withStack(newError('only this')));
    expect(err.message).toBe('only this');
    expect(err.ownMessage).toBe('');
  });

  test('a cyclic cause chain prints and terminates', () => {
    const a = newError('a');
    const b = wrap(a, 'b');
    Object.defineProperty(a, 'cause', { value: b });
    expect(formatError(b)).toBe('b: a');
    expect(errorDetails(b)).toHaveLength(2);
  });

  test('paths outside the working directory stay absolute', () => {
    const err = newError('x');
    const [line] = errorDetails(err, { cwd: '/nonexistent-dir' });
    expect(line).toContain(`(${thisFile}:`);
  });
});

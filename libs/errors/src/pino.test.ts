import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { createErrorSerializer, errorSerializer, newError, wrap } from './index.js';

function capture(detailed: boolean) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const log = pino(
    {
      serializers: { err: detailed ? createErrorSerializer({ detailed: true }) : errorSerializer },
    },
    stream,
  );
  return { log, lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('pino error serializer', () => {
  test('compact: type, code and the chain text, no stack', async () => {
    const { log, lines } = capture(false);
    log.error(
      { err: wrap(newError('disk full', { code: 'ERR_TEST_DISK' }), 'writing wal') },
      'failed',
    );
    await flush();
    expect(lines[0]?.['err']).toEqual({
      type: 'AgolaError',
      code: 'ERR_TEST_DISK',
      message: 'writing wal: disk full',
    });
    expect(JSON.stringify(lines[0])).not.toContain('stack');
  });

  test('detailed: one line per element with file:line and function', async () => {
    const { log, lines } = capture(true);
    function loadConfig() {
      return wrap(new Error('EACCES'), 'loading config');
    }
    log.error({ err: loadConfig() }, 'startup failed');
    await flush();
    const err = lines[0]?.['err'] as { details: string[]; message: string };
    expect(err.message).toBe('loading config: EACCES');
    expect(err.details).toHaveLength(2);
    expect(err.details[0]).toMatch(
      /^AgolaError\[ERR_UNKNOWN\] at loadConfig \(src\/pino\.test\.ts:\d+\): loading config$/,
    );
    expect(err.details[1]).toMatch(/^Error at .*\(src\/pino\.test\.ts:\d+\): EACCES$/);
  });

  test('third-party errors and non-errors serialize too', () => {
    expect(errorSerializer(Object.assign(new Error('x'), { code: 'EPIPE' }))).toEqual({
      type: 'Error',
      code: 'EPIPE',
      message: 'x',
    });
    expect(errorSerializer('thrown text')).toEqual({ type: 'string', message: 'thrown text' });
  });
});

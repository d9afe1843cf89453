import { describe, expect, test } from 'vitest';
import { wrap } from '@agola-ts/errors';
import { createTestLogger } from './logger.js';

describe('createTestLogger', () => {
  test('tags each instance with a unique name and prints a short line', () => {
    const lines: string[] = [];
    const a = createTestLogger('svc-x', { write: (l) => lines.push(l) });
    const b = createTestLogger('svc-x', { write: (l) => lines.push(l) });
    a.info({ port: 4000 }, 'listening');
    b.warn('slow');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[svc-x#1\] listening port=4000$/);
    expect(lines[1]).toMatch(/ WARN {2}\[svc-x#2\] slow$/);
  });

  test('prints errors with their chain, one line per element', () => {
    const lines: string[] = [];
    const log = createTestLogger('svc-y', { write: (l) => lines.push(l) });
    log.error({ err: wrap(new Error('disk full'), 'writing wal') }, 'checkpoint failed');
    const [line] = lines;
    expect(line).toContain('[svc-y#1] checkpoint failed err="writing wal: disk full"');
    const details = line!.split('\n').slice(1);
    expect(details).toHaveLength(2);
    expect(details[0]).toMatch(
      /^ {4}AgolaError\[ERR_UNKNOWN\] at .* \(src\/logger\.test\.ts:\d+\): writing wal$/,
    );
    expect(details[1]).toMatch(/^ {4}Error at .*: disk full$/);
  });

  test('respects the level', () => {
    const lines: string[] = [];
    const log = createTestLogger('svc-z', { level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.error('shown');
    expect(lines).toHaveLength(1);
  });
});

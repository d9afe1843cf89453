import { pino, type Logger, type LevelWithSilent } from 'pino';
import { createErrorSerializer, formatError } from '@agola-ts/errors';

const instances = new Map<string, number>();

/** Options of {@link createTestLogger}. */
export interface TestLoggerOptions {
  /** @default the env var AGOLA_TEST_LOG_LEVEL, else `debug` */
  level?: LevelWithSilent;
  /** Where lines go. @default console.log, so vitest shows them with the test that logged */
  write?: (line: string) => void;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * A pino logger for a service under test. Each call tags its instance with a unique
 * `name` (`configstore#1`, `configstore#2`), so two instances in one test are told apart.
 * Lines are printed in a short human form through `console.log`, which vitest attributes
 * to the running test (and, with `silent: 'passed-only'`, shows only for failures).
 * Errors in `err` are printed with their detailed chain.
 *
 * @example
 * ```ts
 * const log = createTestLogger('configstore');
 * log.info({ port }, 'listening'); // 12:00:00.123 INFO  [configstore#1] listening port=4000
 * ```
 */
export function createTestLogger(component: string, options: TestLoggerOptions = {}): Logger {
  const n = (instances.get(component) ?? 0) + 1;
  instances.set(component, n);
  const write = options.write ?? ((line: string) => console.log(line));
  const level =
    options.level ??
    (process.env['AGOLA_TEST_LOG_LEVEL'] as LevelWithSilent | undefined) ??
    'debug';
  return pino(
    {
      name: `${component}#${n}`,
      level,
      base: undefined,
      serializers: { err: createErrorSerializer({ detailed: true }) },
    },
    { write: (json: string) => write(humanLine(json)) },
  );
}

/** Turns one pino JSON line into `time LEVEL [name] msg key=value ...`. */
export function humanLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const { time, level, name, msg, err, ...rest } = rec;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5);
  let line = `${t} ${lvl} [${String(name)}] ${typeof msg === 'string' ? msg : ''}`;
  for (const [k, v] of Object.entries(rest)) line += ` ${k}=${JSON.stringify(v)}`;
  if (err && typeof err === 'object') {
    const e = err as { message?: string; details?: string[] };
    line += ` err=${JSON.stringify(e.message ?? formatError(err))}`;
    for (const d of e.details ?? []) line += `\n    ${d}`;
  }
  return line;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { errorSerializer } from '@agola-ts/errors';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import type { Logger } from '../src/logger.js';

const dirs: string[] = [];

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agola-db-'));
  dirs.push(dir);
  return dir;
}

/** A path for a new database file in a fresh temporary directory. */
export async function tempDbPath(): Promise<string> {
  return join(await tempDir(), 'test.sqlite');
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A real pino logger at debug level whose output (JSON lines) is kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: 'debug', serializers: { err: errorSerializer } }, stream);
  return { logger, lines };
}

const sqlite3Path = createRequire(import.meta.url).resolve('sqlite3');

/**
 * Starts another node process that opens the database, takes the write lock
 * (`BEGIN IMMEDIATE`), holds it for `holdMs`, then commits. Resolves once the lock is held.
 */
export async function holdWriteLock(
  path: string,
  holdMs: number,
): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const script = `
    const sqlite3 = require(${JSON.stringify(sqlite3Path)});
    const db = new sqlite3.Database(${JSON.stringify(path)});
    db.exec('BEGIN IMMEDIATE', (err) => {
      if (err) { console.error(err.message); process.exit(2); }
      process.stdout.write('locked\\n');
      setTimeout(() => db.exec('COMMIT', () => db.close(() => process.exit(0))), ${holdMs});
    });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
  });
  return { child, exited };
}

/** A promise with its resolve function, to hold a transaction open until the test says so. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

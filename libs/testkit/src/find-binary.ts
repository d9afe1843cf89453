import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';

/** Finds an executable on PATH, or fails with what to install. */
export function findBinary(name: string, installHint: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw newError(`${name} not found on PATH: ${installHint}`, {
    code: TestkitErrorCodes.BinaryMissing,
  });
}

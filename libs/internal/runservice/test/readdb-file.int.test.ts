import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READDB_FILE } from '../src/index.js';
import { startFresh } from './helpers.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('readdb file', () => {
  // the readdb holds run environments (variables resolved from secrets): only the service's user
  it('is created 0600 in a 0700 data dir, its -wal file too', async () => {
    const { dataDir } = await startFresh();
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(join(dataDir, READDB_FILE))).toBe(0o600);
    expect(await mode(join(dataDir, `${READDB_FILE}-wal`))).toBe(0o600);
  });
});

import { chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

/** The mode of the data dir: only the service's user (the readdb holds tokens and secrets). */
export const DATA_DIR_MODE = 0o700;
/** The mode of the readdb file; sqlite gives its -wal and -shm files the same mode. */
export const READDB_FILE_MODE = 0o600;

/**
 * Makes the data dir (0700) and the readdb file (0600) before sqlite opens it: sqlite would
 * create the file 0644, and its -wal and -shm files take the mode of the database file. An
 * existing dir or file gets its mode tightened.
 *
 * @returns the readdb file path.
 */
export async function prepareReadDbFile(dataDir: string, fileName: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  await chmod(dataDir, DATA_DIR_MODE);
  const path = join(dataDir, fileName);
  // create it if missing (never truncate), then set the mode whatever the umask did
  const handle = await open(path, 'a', READDB_FILE_MODE);
  try {
    await handle.chmod(READDB_FILE_MODE);
  } finally {
    await handle.close();
  }
  for (const suffix of ['-wal', '-shm']) {
    await chmod(path + suffix, READDB_FILE_MODE).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return path;
}

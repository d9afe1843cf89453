import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryStorage,
  createPosixFlatStorage,
  createPosixStorage,
  withBasePath,
} from '../src/index.js';
import { describeObjectStorage } from '../src/testing.js';

async function tempRoot() {
  const dir = await mkdtemp(join(tmpdir(), 'ost-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

for (const basePath of ['', 'configdata/']) {
  const label = basePath === '' ? 'no base path' : `base path ${basePath}`;

  describeObjectStorage(`memory, ${label}`, () => createMemoryStorage({ basePath }));

  describeObjectStorage(`posix, ${label}`, async () => {
    const { dir, cleanup } = await tempRoot();
    return { storage: createPosixStorage({ path: dir, basePath }), cleanup };
  });

  describeObjectStorage(`posixflat, ${label}`, async () => {
    const { dir, cleanup } = await tempRoot();
    return { storage: createPosixFlatStorage({ path: dir, basePath }), cleanup };
  });
}

// withBasePath over a storage that itself has a base path: the paths add up.
describeObjectStorage('memory, nested withBasePath', () =>
  withBasePath(createMemoryStorage({ basePath: 'outer' }), 'inner/more/'),
);

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLocalDriver } from '../src/index.js';
import { describeDriver } from './driver-conformance.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describeDriver('local', async () => {
  const podsDir = await mkdtemp(join(tmpdir(), 'agola-executor-local-'));
  dirs.push(podsDir);
  return {
    create: async (executorId) => createLocalDriver({ type: 'local', executorId, podsDir }),
    image: 'ignored:latest',
    usesImages: false,
  };
});

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLocalDriver } from '../src/index.js';
import { describeSteps } from './steps-suite.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describeSteps('local driver', async () => {
  const podsDir = await mkdtemp(join(tmpdir(), 'agola-executor-steps-'));
  dirs.push(podsDir);
  await chmod(podsDir, 0o755); // steps as another user must reach their pod's home
  return {
    driver: createLocalDriver({ type: 'local', executorId: 'steps-local', podsDir }),
    image: 'ignored',
  };
});

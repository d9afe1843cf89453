import { builtinModules } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the built libs import node modules without `node:` (tsup drops it); without this alias
  // vite resolves them as paths of this package when the services are imported
  resolve: {
    alias: builtinModules
      .filter((m) => !m.startsWith('_'))
      .map((m) => ({ find: new RegExp(`^${m}$`), replacement: `node:${m}` })),
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    // One etcd and S3 (end-to-end tests) and one podman (Docker-compatible API + a local
    // busybox image) for the whole run.
    globalSetup: ['@agola-ts/testkit/global-setup', '@agola-ts/testkit/container-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the built libs import `stream` (tsup drops `node:`); without this alias vite resolves it
  // as a path of this package when the services are imported (the end-to-end tests)
  resolve: { alias: [{ find: /^stream$/, replacement: 'node:stream' }] },
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

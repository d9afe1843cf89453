import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    // One podman (Docker-compatible API + a local busybox image) for the whole run.
    globalSetup: ['@agola-ts/testkit/container-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

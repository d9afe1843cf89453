import { defineConfig } from 'vitest/config';

// No etcd or S3 here: the tests start forge simulators (real git, real HTTP) themselves.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

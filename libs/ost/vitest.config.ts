import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['@agola-ts/testkit/global-setup'],
  },
});

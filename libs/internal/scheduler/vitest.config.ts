import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    globalSetup: ['@agola-ts/testkit/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

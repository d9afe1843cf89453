import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    // jsonnet runs as a process: on a loaded CI machine one evaluation can pass 5 s.
    testTimeout: 30_000,
  },
});

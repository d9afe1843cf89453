import { builtinModules } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the built libs import node modules without `node:` (tsup drops it): keep them node's
  resolve: {
    alias: builtinModules
      .filter((m) => !m.startsWith('_'))
      .map((m) => ({ find: new RegExp(`^${m}$`), replacement: `node:${m}` })),
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    silent: 'passed-only',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

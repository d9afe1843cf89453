import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/main.ts'],
    format: ['esm'],
    sourcemap: true,
    clean: true,
    keepNames: true,
    tsconfig: 'tsconfig.build.json',
  },
  {
    // the CommonJS entry that sizes the thread pool, then imports main.js (not bundled)
    entry: ['src/agola.ts'],
    format: ['cjs'],
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: true,
    keepNames: true,
    external: ['./main.js'],
    tsconfig: 'tsconfig.build.json',
  },
]);

import { defineConfig } from 'tsup';

// Bundles the benchmark with the configstore's source; the other libraries come from their dist.
export default defineConfig({
  entry: { run: 'bench/run.ts', readdb: 'bench/readdb.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//, 'sqlite3', 'fastify', 'pino'],
});

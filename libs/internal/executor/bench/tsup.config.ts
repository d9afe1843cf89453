import { defineConfig } from 'tsup';

// Bundles the benchmark with the executor's source; the other libraries come from their dist.
export default defineConfig({
  entry: { run: 'bench/run.ts', service: 'bench/service.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//, 'dockerode', 'tar-stream', 'picomatch', 'pino', 'fastify'],
});

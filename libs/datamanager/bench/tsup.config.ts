import { defineConfig } from 'tsup';

// Bundles the benchmark script only; the libraries it measures come from their built dist.
export default defineConfig({
  entry: { run: 'bench/run.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//],
});

import { defineConfig } from 'tsup';

// Bundles the benchmark script only; the libraries it measures are loaded from their built
// dist (they stay external), so the figures are those of the published code.
export default defineConfig({
  entry: { run: 'bench/run.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//, /^@aws-sdk\//],
});

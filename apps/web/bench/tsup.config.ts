import { defineConfig } from 'tsup';

// Bundles the browser benchmark (and the e2e stack helpers it shares); playwright-core stays
// external. The page it measures is the built bundle in apps/web/dist.
export default defineConfig({
  entry: { run: 'bench/run.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: ['playwright-core'],
});

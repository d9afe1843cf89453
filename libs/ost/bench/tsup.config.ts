import { defineConfig } from 'tsup';

// Relative to the output file, bench/dist/run.js.
const dist = '../../dist/index.js';

// Bundles the benchmark script only. The library it measures is loaded from the built dist
// (the `../src/index.js` import is redirected there and kept external), so the figures are
// those of the published code.
export default defineConfig({
  entry: { run: 'bench/run.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//, /^@aws-sdk\//],
  esbuildPlugins: [
    {
      name: 'ost-from-dist',
      setup(build) {
        build.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: dist, external: true }));
      },
    },
  ],
});

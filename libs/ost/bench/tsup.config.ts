import { defineConfig } from 'tsup';

// Relative to the output file, bench/dist/run.js.
const dist = '../../dist';

// Bundles the benchmark script only. The library it measures is loaded from the built dist
// (the `../src/index.js` and `../src/s3.js` imports are redirected there and kept external), so the figures are
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
        build.onResolve({ filter: /\/src\/(index|s3)\.js$/ }, (args) => ({
          path: `${dist}/${args.path.endsWith('s3.js') ? 's3' : 'index'}.js`,
          external: true,
        }));
      },
    },
  ],
});

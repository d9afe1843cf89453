import { defineConfig } from 'tsup';

// Bundles the browser benchmark with the e2e harness it drives; the workspace libs and
// playwright-core stay external (their built dists). The harness finds the built CLI and web
// bundle from its own location: `import.meta.url` is redirected to where e2e/harness.ts is.
export default defineConfig({
  entry: { run: 'bench/run.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: [/^@agola-ts\//, 'playwright-core'],
  define: { 'import.meta.url': '__harnessUrl' },
  banner: { js: "const __harnessUrl = new URL('../../e2e/harness.ts', import.meta.url).href;" },
});

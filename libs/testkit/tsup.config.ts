import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/global-setup.ts', 'src/container-global-setup.ts', 'src/bench.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  keepNames: true,
  tsconfig: 'tsconfig.build.json',
});

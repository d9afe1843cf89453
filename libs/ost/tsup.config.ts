import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/s3.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  keepNames: true,
  tsconfig: 'tsconfig.build.json',
});

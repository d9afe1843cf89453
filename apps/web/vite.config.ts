import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // the run/task pages are their own chunks: the home page does not load the log viewer
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `npm run dev` against a running gateway: AGOLA_GATEWAY=http://127.0.0.1:8000
    proxy: process.env['AGOLA_GATEWAY']
      ? {
          '/api': process.env['AGOLA_GATEWAY'],
          '/config.js': process.env['AGOLA_GATEWAY'],
          '/badges': process.env['AGOLA_GATEWAY'],
        }
      : {},
  },
});

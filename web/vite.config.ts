import { defineConfig } from 'vite';

// The build goes into core/api/ui/dist, which the Go package core/api
// embeds; the file names carry a hash of their content, so a rebuild of the
// same sources gives the same files (make ui-check relies on it). The
// assets are named relative to the document, whose <base> the server sets
// to where the UI is (the root, or route_prefix).
export default defineConfig({
  base: './',
  // npx vite serves the sources with reloading; the API comes from a
  // server on the default port.
  server: { proxy: { '/api': 'http://127.0.0.1:9090' } },
  build: {
    outDir: '../core/api/ui/dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1024,
  },
});

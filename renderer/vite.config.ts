/**
 * The admin UI's build. `base: './'` makes every asset URL relative, so the same build works when
 * the node serves it at `/`, from a file, or from Electron's custom protocol. Nothing is loaded from
 * outside the bundle (sites may be air-gapped): fonts and icons are bundled.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm run dev:renderer` sends API and socket.io requests: a running node. */
const devApi = process.env.MESHDESK_API ?? 'http://127.0.0.1:8440';

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // Same origin in development too: the dev server forwards the API and the event stream.
    proxy: {
      '/api': { target: devApi, changeOrigin: true },
      '/socket.io': { target: devApi, changeOrigin: true, ws: true },
    },
  },
});

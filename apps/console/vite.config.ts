import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** Where `pnpm dev` forwards API calls; the control plane's default REST address. */
const controlPlane = process.env.PORTCULLIS_CONTROL_PLANE ?? 'http://127.0.0.1:8080';

// The IdP's console client accepts redirects to :8080 and :5173 only, so dev and preview both use 5173.
const serve = {
  host: '127.0.0.1',
  port: Number(process.env.CONSOLE_DEV_PORT ?? 5173),
  strictPort: true,
  proxy: { '/api': controlPlane, '/console-config.json': controlPlane },
};

export default defineConfig({
  plugins: [react()],
  server: serve,
  preview: serve,
  // One bundle (~180 kB gzipped, mostly React and zod) is fine for an admin console.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 700 },
});

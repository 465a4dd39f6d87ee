import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** Where `pnpm dev` forwards API calls; the control plane's default REST address. */
const controlPlane = process.env.PORTCULLIS_CONTROL_PLANE ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: Number(process.env.CONSOLE_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: { '/api': controlPlane, '/console-config.json': controlPlane },
  },
  preview: {
    host: '127.0.0.1',
    port: Number(process.env.CONSOLE_PREVIEW_PORT ?? 4173),
    proxy: { '/api': controlPlane, '/console-config.json': controlPlane },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the API at /admin; `npm install` builds it (root postinstall) so `npm start` serves it.
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/admin/v1': 'http://127.0.0.1:8080', '/admin/session': 'http://127.0.0.1:8080', '/admin/queues': 'http://127.0.0.1:8080' } },
});

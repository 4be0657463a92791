import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by OpenMAM under /console (src/http/console-routes.ts); its build goes to web/dist and is
// never committed: `npm ci` builds it (the root package's `prepare`).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
});

// Builds the React UI into dist/ui: served by the browser host and by Electron's app:// protocol.
// Relative asset paths (base './') work under both. JSX is compiled by Vite's own transformer
// (React automatic runtime), so no plugin is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const uiRoot = fileURLToPath(new URL('./renderer/', import.meta.url));
export const uiOutDir = fileURLToPath(new URL('./dist/ui/', import.meta.url));

export default defineConfig({
  root: uiRoot,
  base: './',
  clearScreen: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: uiOutDir,
    emptyOutDir: true,
    target: 'chrome130',
    // One small chunk set; the CSP allows only 'self' scripts, so nothing is inlined.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});

// Builds the plugin's one classic-script bundle (spec §1.6) and its stylesheet (§1.7):
// dist/index.js (IIFE, everything bundled) and dist/style.css.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [svelte()],
  // The bundle must never fetch anything at runtime: inline every asset.
  base: './',
  server: { fs: { allow: [here('..')] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    minify: true,
    lib: {
      entry: here('src/main.ts'),
      name: 'VerstakSyncPlugin',
      formats: ['iife'],
      fileName: () => 'index.js',
      cssFileName: 'style',
    },
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/setup.ts'],
  },
});

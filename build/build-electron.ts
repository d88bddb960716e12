// Bundles the Electron side into dist/app/ (the UI is built by vite into dist/ui/):
//   main.mjs       Electron main + the engine (ESM; electron and node: builtins stay external)
//   zip-worker.mjs the zip worker, started with utilityProcess.fork
//   preload.cjs    the sandboxed preload: one self-contained CommonJS file, only `electron` external
// rolldown ships with Vite 8; the same transformer strips the TypeScript.
//   node build/build-electron.ts
import { rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}dist/app`;
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export async function buildElectron(): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await build([
    {
      input: { main: `${root}electron/main/main.ts`, 'zip-worker': `${root}electron/worker/zip-worker.ts` },
      platform: 'node',
      external: ['electron', ...nodeBuiltins],
      output: { dir: outDir, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', sourcemap: true },
    },
    {
      input: `${root}electron/preload/preload.ts`,
      platform: 'node',
      external: ['electron'],
      output: { file: `${outDir}/preload.cjs`, format: 'cjs', codeSplitting: false, sourcemap: 'inline' },
    },
  ]);
}

if (import.meta.main) {
  await buildElectron();
  process.stdout.write(`built ${outDir}\n`);
}

// Builds the UI once per test file into a temp folder (vite, well under a second), so e2e
// tests never depend on a stale dist/ui or race another file's build.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export async function buildUi(): Promise<string> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'reelpack-ui-'));
  await build({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

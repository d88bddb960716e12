// The same flow in the real Electron app (Playwright's _electron.launch). It runs wherever the
// Electron binary exists; on machines without it (these build machines: Electron downloads its
// binary lazily and there is no internet) it is skipped with that reason printed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { _electron as electron } from 'playwright';
import { startDemoServer } from '../servers/demo-server.ts';
import { chooseFolder, connectTo, selectAll, waitForDone } from './flow-steps.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The binary electron's npm package would launch, if it has been downloaded (never triggers a download). */
function electronBinary(): string | null {
  const dir = path.join(root, 'node_modules/electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();
const skip = binary ? false : 'the Electron binary is not installed here (node_modules/electron/dist is empty; it downloads on first launch and these machines have no internet). Run on a desktop machine after `npx electron --version`.';
if (skip) process.stdout.write(`# skipped Electron e2e: ${skip}\n`);

test('Electron app: connect, select all, choose folder, download and bundle, open folder', { skip }, async () => {
  const { buildElectron } = await import('../../build/build-electron.ts');
  const { build } = await import('vite');
  await build({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'error' });
  await buildElectron();
  const demo = await startDemoServer({ count: 12, size: 128 * 1024 });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-electron-'));
  const app = await electron.launch({
    executablePath: binary!,
    args: [path.join(root, 'dist/app/main.mjs'), `--user-data-dir=${path.join(tmp, 'profile')}`],
    env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' },
  });
  try {
    const page = await app.firstWindow();
    // The preload exposes exactly the contract and nothing of Node.
    assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
    assert.equal(await page.evaluate(() => typeof (window as unknown as { reelpack: { connect: unknown } }).reelpack.connect), 'function');
    await connectTo(page, demo.url);
    await selectAll(page);
    const outDir = path.join(tmp, 'out');
    await chooseFolder(page, outDir);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await waitForDone(page);
    assert.equal((await readdir(outDir)).filter((f) => f.endsWith('.zip')).length, 1);
    // Open folder goes to shell.openPath in main; stub it there so no file manager opens.
    await app.evaluate(({ shell }) => {
      (shell as unknown as { openPath: (p: string) => Promise<string> }).openPath = async (p) => {
        (globalThis as { opened?: string }).opened = p;
        return '';
      };
    });
    await page.getByRole('button', { name: 'Open folder' }).click();
    await page.waitForTimeout(300);
    assert.equal(await app.evaluate(() => (globalThis as { opened?: string }).opened), outDir);
  } finally {
    await app.close();
    await demo.close();
    await rm(tmp, { recursive: true, force: true });
  }
});

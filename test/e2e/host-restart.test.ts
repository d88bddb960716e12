// Resume after the host process is killed: `reelpack serve` runs as a real child process, is
// killed with SIGKILL mid-download, and started again on the same config dir. The new page
// offers the interrupted job; Resume finishes it and the archive matches the server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../servers/demo-server.ts';
import type { DemoServer } from '../servers/demo-server.ts';
import { chooseFolder, connectTo, waitForDone, waitForPercentAbove } from './flow-steps.ts';
import { chromiumPath, launchChromium } from './helpers/chromium.ts';
import type { Browser } from './helpers/chromium.ts';
import { snap } from './helpers/screenshots.ts';
import { buildUi } from './helpers/ui-build.ts';
import { zipEntryHashes } from './helpers/zip-entries.ts';

const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}`;
const serveEntry = fileURLToPath(new URL('../../electron/host/serve-command.ts', import.meta.url));
let tmp: string;
let uiDir: string;
let demo: DemoServer;
let browser: Browser;
const children: ChildProcess[] = [];

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-restart-'));
  uiDir = await buildUi();
  demo = await startDemoServer({ count: 10, size: 512 * 1024, rateBytesPerSec: 160 * 1024 });
  browser = await launchChromium();
});

after(async () => {
  if (skip) return;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await browser?.close();
  await demo?.close();
  await rm(tmp, { recursive: true, force: true });
  await rm(uiDir, { recursive: true, force: true });
});

/** Starts `reelpack serve` as its own process and returns the address it prints. */
function serve(configDir: string, port = '0'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [serveEntry, '--port', port, '--config-dir', configDir, '--ui-dir', uiDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out)?.[0];
      if (url) resolve({ url, child });
    });
    child.once('exit', (code) => reject(new Error(`reelpack serve exited with ${code}: ${out}`)));
  });
}

test('kill -9 the host mid-download, start it again: the job is offered and resumes', { skip }, async () => {
  const configDir = path.join(tmp, 'config');
  const outDir = path.join(tmp, 'out');
  const first = await serve(configDir);
  const page = await browser.context.newPage();
  await page.goto(first.url);
  await connectTo(page, demo.url);
  await chooseFolder(page, outDir);
  await page.getByRole('button', { name: 'Download and bundle' }).click();
  await waitForPercentAbove(page, 15);
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  await page.getByText('Lost the connection to Reelpack. Reconnecting… If Reelpack was restarted, open the address it printed.').waitFor();

  // Started again on the same port: it answers, but with a new token the old page is refused,
  // and the page says what to do instead of reconnecting forever.
  const second = await serve(configDir, new URL(first.url).port);
  await page.getByText('Reelpack was restarted and no longer accepts this page. Open the new address it printed (it ends in ?token=…).').waitFor();
  await snap(page, 'connection-refused-en');
  await page.goto(second.url);
  await page.getByText('An interrupted job can be resumed').waitFor();
  await snap(page, 'connect-interrupted-en');
  await page.getByRole('button', { name: 'Resume' }).click();
  await waitForDone(page);
  const zips = (await readdir(outDir)).filter((f) => f.endsWith('.zip'));
  assert.equal(zips.length, 1);
  const hashes = await zipEntryHashes(path.join(outDir, zips[0]!));
  for (const file of demo.files) assert.equal(hashes.get(file.name), file.sha256, file.name);
  // Only what was missing was fetched again: far less than twice the batch.
  const batch = demo.files.reduce((s, f) => s + f.data.length, 0);
  assert.ok(demo.bytesSent() < batch * 1.5, `sent ${demo.bytesSent()} for a ${batch}-byte batch`);
  await page.close();
  second.child.kill('SIGTERM');
});

// 10 000 results: every page is listed, the table stays virtualized (a window of rows in
// the DOM, not 10 000), scrolling reaches the last row, and search and select-all keep up.
// Timings are printed for the record, not asserted (performance is measured by the bench).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startHost } from '../../electron/host/browser-host.ts';
import type { RunningHost } from '../../electron/host/browser-host.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import type { DemoServer } from '../servers/demo-server.ts';
import { connectTo } from './flow-steps.ts';
import { chromiumPath, launchChromium } from './helpers/chromium.ts';
import type { Browser } from './helpers/chromium.ts';
import { buildUi } from './helpers/ui-build.ts';

const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
const count = 10_000;
let tmp: string;
let host: RunningHost;
let browser: Browser;
let demo: DemoServer;

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-e2e-large-'));
  demo = await startDemoServer({ count, size: 16 });
  host = await startHost({ configDir: path.join(tmp, 'config'), uiDir: await buildUi() });
  browser = await launchChromium({ locale: 'en-US' });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await host?.close();
  await demo?.close();
  await rm(tmp, { recursive: true, force: true });
});

test('10 000 results: all listed, the table virtualized, scroll, search and select all', { skip }, async () => {
  const page = await browser.context.newPage();
  await page.goto(host.url);
  let started = Date.now();
  await connectTo(page, demo.url);
  await page.getByText(`Showing ${count} of ${count}`).waitFor({ timeout: 60_000 });
  const connectMs = Date.now() - started;
  const rendered = await page.locator('[role="table"] [role="row"][aria-rowindex]').count();
  assert.ok(rendered > 5 && rendered < 100, `${rendered} rows in the DOM for ${count} results`);

  started = Date.now();
  await page.locator('[role="table"] [role="row"][aria-rowindex]').first().hover();
  await page.mouse.wheel(0, 1_000_000);
  await page.getByText('result_10000.mp4').waitFor();
  const scrollMs = Date.now() - started;

  started = Date.now();
  await page.getByRole('searchbox', { name: 'Search' }).fill('result_9999.mp4');
  await page.getByText(`Showing 1 of ${count}`).waitFor();
  const searchMs = Date.now() - started;
  await page.getByRole('searchbox', { name: 'Search' }).fill('');
  await page.getByRole('button', { name: 'Select none' }).click();
  await page.getByRole('checkbox', { name: 'Select all' }).check();
  await page.getByText(`${count.toLocaleString('en-US')} selected`).or(page.getByText(`${count} selected`)).first().waitFor();
  console.log(`10 000 results: connect+list ${connectMs} ms, scroll to end ${scrollMs} ms, search ${searchMs} ms`);
  await page.close();
});

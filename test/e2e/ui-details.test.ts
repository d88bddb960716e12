// Details of the UI that were fixed without a test of their own, each checked in Debian's
// Chromium through the browser host against demo servers (all on 127.0.0.1): sortable columns
// announce aria-sort; a fresh page fills in the last server; a new screen's heading takes the
// focus; the error toast leaves the action bar's Start button uncovered; a 900 px window keeps
// the header's buttons inside it; folder mode ends on "Download complete"; a page reloaded while
// a job runs shows that job; a file waiting to retry counts down.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright';
import { startHost } from '../../electron/host/browser-host.ts';
import type { RunningHost } from '../../electron/host/browser-host.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import type { DemoServer } from '../servers/demo-server.ts';
import { startSlowListingServer } from '../servers/slow-listing-server.ts';
import { chooseFolder, connectTo, waitForPercentAbove } from './flow-steps.ts';
import { chromiumPath, launchChromium } from './helpers/chromium.ts';
import type { Browser } from './helpers/chromium.ts';
import { buildUi } from './helpers/ui-build.ts';

const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
let tmp: string;
let uiDir: string;
let host: RunningHost;
let browser: Browser;
/** Small files, served at once: jobs on it finish in well under a second. */
let fast: DemoServer;
/** 1 MiB files at 64 KiB/s each: a job on it runs for as long as a test needs. */
let slow: DemoServer;
/** result_0004 answers 404: a job on it ends failed, with "Bundle without them" and "Retry failed". */
let broken: DemoServer;
/** result_0002's first request answers 503 with Retry-After: 5, then it is served. */
let retrying: DemoServer;
let retryFaultServed = false;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-ui-details-'));
  uiDir = await buildUi();
  fast = await startDemoServer({ count: 6, size: (i) => 32 * 1024 + i * 1024 });
  slow = await startDemoServer({ count: 6, size: 1024 * 1024, rateBytesPerSec: 64 * 1024 });
  broken = await startDemoServer({ count: 5, size: 16 * 1024, faults: (req) => (/result_0004\.mp4/.test(req.url ?? '') ? { kind: 'status', status: 404 } : undefined) });
  retrying = await startDemoServer({
    count: 3,
    size: 32 * 1024,
    faults: (req) => {
      if (retryFaultServed || !/result_0002\.mp4/.test(req.url ?? '')) return undefined;
      retryFaultServed = true;
      return { kind: 'status', status: 503, retryAfter: '5' };
    },
  });
  // retries: 2 so the 503 above is retried (a 404 is permanent whatever the count).
  host = await startHost({ configDir: path.join(tmp, 'config'), uiDir, openPath: async () => {}, jobDefaults: { retries: 2, stallTimeoutMs: 5000 }, eventThrottleMs: 80 });
  browser = await launchChromium({ locale: 'en-US' });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await host?.close();
  await Promise.all([fast?.close(), slow?.close(), broken?.close(), retrying?.close()]);
  await rm(tmp, { recursive: true, force: true });
  await rm(uiDir, { recursive: true, force: true });
});

async function openApp(): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(host.url);
  await page.getByRole('heading', { name: 'Connect to a generation server' }).waitFor();
  return page;
}

/** Cancels the job the page shows and waits until its downloads are deleted. */
async function cancelJob(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Discard downloads' }).click();
  await page.getByText(/Cancelled\. (The|Its|Nothing)/).waitFor();
}

/** Whether `locator` is wholly inside the page's viewport. */
async function insideViewport(page: Page, locator: Locator): Promise<{ inside: boolean; box: string }> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  if (!box) return { inside: false, box: 'not rendered' };
  const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
  return { inside, box: `x ${Math.round(box.x)}–${Math.round(box.x + box.width)}, y ${Math.round(box.y)}–${Math.round(box.y + box.height)} in ${viewport.width}×${viewport.height}` };
}

test('sortable column headers announce aria-sort, and it follows the clicks', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, fast.url);
    const name = page.getByRole('columnheader', { name: 'Name', exact: true });
    const size = page.getByRole('columnheader', { name: 'Size', exact: true });
    const created = page.getByRole('columnheader', { name: 'Created', exact: true });
    /** The three headers' aria-sort, once they read `expected` (or after 2 s, whatever they read). */
    const sorts = async (expected: Array<string | null>) => {
      const read = async () => [await name.getAttribute('aria-sort'), await size.getAttribute('aria-sort'), await created.getAttribute('aria-sort')];
      const deadline = Date.now() + 2000;
      let now = await read();
      while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
        await page.waitForTimeout(50);
        now = await read();
      }
      return now;
    };
    assert.deepEqual(await sorts(['none', 'none', 'none']), ['none', 'none', 'none'], 'unsorted at first');
    await size.getByRole('button', { name: 'Size' }).click();
    assert.deepEqual(await sorts(['none', 'ascending', 'none']), ['none', 'ascending', 'none']);
    await size.getByRole('button', { name: 'Size' }).click();
    assert.deepEqual(await sorts(['none', 'descending', 'none']), ['none', 'descending', 'none']);
    // The rows follow: largest first (result_0006 is the largest file).
    assert.equal(await page.locator('.tbody .tr').first().locator('.td-name').textContent(), 'result_0006.mp4');
    await name.getByRole('button', { name: 'Name' }).click();
    assert.deepEqual(await sorts(['ascending', 'none', 'none']), ['ascending', 'none', 'none'], 'another column sorts ascending first, and the old one is none again');
    // Only the sortable columns say how they are sorted.
    assert.equal(await page.getByRole('columnheader', { name: 'Status', exact: true }).getAttribute('aria-sort'), null);
  } finally {
    await page.close();
  }
});

test('a fresh page fills in the last server used', { skip }, async () => {
  const first = await openApp();
  let source: string;
  try {
    await connectTo(first, broken.url); // not the server the test before used
    // The source as the app lists it (the results API's address) is what it remembers.
    source = (/ on (\S+)$/.exec((await first.locator('.screen-results .lead').textContent()) ?? '')?.[1]) ?? '';
    assert.ok(source.startsWith(broken.url), `listed source ${source}`);
  } finally {
    await first.close();
  }
  const page = await openApp();
  try {
    const field = page.getByLabel('Server URL');
    // The settings arrive after the first render: wait for them rather than read at once.
    await page.getByRole('heading', { name: 'Recent servers' }).waitFor();
    await page.locator('.recent-url').first().waitFor();
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('.connect-card input[type=text]')?.value ?? '') !== '', undefined, { timeout: 3000 }).catch(() => {});
    assert.equal(await field.inputValue(), source);
    assert.equal(await page.locator('.recent-url').first().textContent(), source, 'the newest recent server is the same');
    // It is ready to use: Connect is enabled and goes to that server.
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('heading', { name: 'Results' }).waitFor();
  } finally {
    await page.close();
  }
});

test('the new screen\'s heading takes the focus when the screen changes', { skip }, async () => {
  const page = await openApp();
  try {
    const focusedHeading = async (name: string): Promise<string> => {
      await page.waitForFunction((text) => {
        const el = document.activeElement;
        return el?.tagName === 'H1' && el.textContent?.trim().startsWith(text) === true;
      }, name, { timeout: 3000 }).catch(() => {});
      return page.evaluate(() => `${document.activeElement?.tagName ?? 'none'}: ${document.activeElement?.textContent?.trim().slice(0, 60) ?? ''}`);
    };
    // On the first screen the server field has the focus (autofocus), not the heading.
    assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('.connect-card input[type=text]')), true);
    await connectTo(page, fast.url);
    assert.equal(await focusedHeading('Results'), 'H1: Results');
    await page.getByRole('button', { name: 'Next: choose folder' }).click();
    await page.getByRole('heading', { name: 'Bundle', exact: true }).waitFor();
    assert.equal(await focusedHeading('Bundle'), 'H1: Bundle');
    // The sidebar too: choosing Jobs lands on its heading.
    await page.getByRole('button', { name: 'Jobs' }).click();
    assert.equal(await focusedHeading('Jobs'), 'H1: Jobs');
  } finally {
    await page.close();
  }
});

test('the error toast does not cover the action bar\'s Start button', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, fast.url);
    const folder = path.join(tmp, 'toast', 'out');
    await mkdir(path.dirname(folder), { recursive: true });
    await chooseFolder(page, folder); // "Will be created"
    // Then another program puts a file where the folder was to be: Start is refused.
    await writeFile(folder, 'not a folder');
    const start = page.getByRole('button', { name: 'Download and bundle' });
    await start.click();
    const toast = page.locator('.toast');
    await toast.waitFor();
    await toast.getByText(/not-a-folder/).waitFor();
    const [t, b] = [await toast.boundingBox(), await start.boundingBox()];
    assert.ok(t && b, 'both are shown');
    const overlap = t.x < b.x + b.width && b.x < t.x + t.width && t.y < b.y + b.height && b.y < t.y + t.height;
    assert.equal(overlap, false, `toast x ${Math.round(t.x)}–${Math.round(t.x + t.width)} y ${Math.round(t.y)}–${Math.round(t.y + t.height)} covers Start x ${Math.round(b.x)}–${Math.round(b.x + b.width)} y ${Math.round(b.y)}–${Math.round(b.y + b.height)}`);
    // What is on top at the button's centre is the button itself.
    assert.equal(await start.evaluate((button) => {
      const r = button.getBoundingClientRect();
      return button.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
    }), true);
    assert.equal((await insideViewport(page, start)).inside, true);
  } finally {
    await page.close();
  }
});

test('in a 900 px window the header\'s buttons wrap instead of being cut off', { skip }, async () => {
  const page = await openApp();
  try {
    await page.setViewportSize({ width: 900, height: 700 });
    // A failed job has the most header buttons: Bundle without them, Retry failed, Cancel.
    await connectTo(page, broken.url);
    await chooseFolder(page, path.join(tmp, 'narrow-failed'));
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await page.getByText('1 file failed. The rest are kept: retry to fetch it, or finish without it.').waitFor({ timeout: 30_000 });
    for (const name of ['Bundle without them', 'Retry failed', 'Cancel']) {
      const { inside, box } = await insideViewport(page, page.locator('.screen-header').getByRole('button', { name, exact: true }));
      assert.ok(inside, `failed job: ${name} at ${box}`);
    }
    assert.equal(await page.locator('.main').evaluate((main) => main.scrollWidth <= main.clientWidth), true, 'nothing scrolls sideways');
    await cancelJob(page);
    // A running job: Pause and Cancel.
    await connectToAgain(page, slow.url);
    await chooseFolder(page, path.join(tmp, 'narrow-running'));
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await page.getByRole('heading', { name: /^Downloading/ }).waitFor();
    for (const name of ['Pause', 'Cancel']) {
      const { inside, box } = await insideViewport(page, page.locator('.screen-header').getByRole('button', { name, exact: true }));
      assert.ok(inside, `running job: ${name} at ${box}`);
    }
    assert.equal(await page.locator('.main').evaluate((main) => main.scrollWidth <= main.clientWidth), true, 'nothing scrolls sideways');
    await cancelJob(page);
  } finally {
    await page.close();
  }
});

/** From any screen: the Server screen, then connect to `url`. */
async function connectToAgain(page: Page, url: string): Promise<void> {
  await page.getByRole('button', { name: 'Server' }).click();
  await page.getByLabel('Server URL').fill(url);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByRole('heading', { name: 'Results' }).waitFor();
  await page.locator('.screen-results .lead').getByText(new RegExp(` on ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)).waitFor();
}

test('folder mode finishes with "Download complete", not the bundle wording', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, fast.url);
    const outDir = path.join(tmp, 'folder-mode');
    await chooseFolder(page, outDir);
    await page.locator('label.tile').filter({ has: page.locator('input[name=mode][value=folder]') }).click();
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    const heading = page.locator('.screen-done h1');
    await heading.waitFor({ timeout: 30_000 });
    assert.equal((await heading.textContent())?.trim(), 'Download complete');
    assert.equal(await page.getByRole('heading', { name: 'Bundle complete' }).count(), 0);
    await page.getByText(`6 files saved in ${outDir}`).waitFor();
  } finally {
    await page.close();
  }
});

test('a page reloaded while a job runs shows that job again, not the Server screen', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, slow.url);
    const outDir = path.join(tmp, 'reload');
    await chooseFolder(page, outDir);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await waitForPercentAbove(page, 0);
    await page.reload();
    // The reloaded page opens on the running job: its heading, its folder, its progress.
    await page.getByRole('heading', { name: /^Downloading/ }).waitFor({ timeout: 5000 }).catch(() => {});
    assert.match((await page.locator('.main h1').first().textContent()) ?? '', /^Downloading/, 'the reloaded page shows the running job');
    await page.locator('.screen-progress .path-line').getByText(outDir).waitFor();
    await waitForPercentAbove(page, 0);
    // And it controls that job.
    await cancelJob(page);
  } finally {
    await page.close();
  }
});

test('a file waiting to retry counts down to its retry', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, retrying.url);
    await chooseFolder(page, path.join(tmp, 'countdown'));
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    const row = page.getByRole('listitem').filter({ hasText: 'result_0002.mp4' });
    const label = row.getByText(/^retrying in \d+s \(attempt 2\)$/);
    await label.waitFor({ timeout: 10_000 });
    const seconds = async () => Number(/in (\d+)s/.exec((await label.textContent()) ?? '')?.[1]);
    const first = await seconds();
    assert.ok(first >= 3 && first <= 5, `Retry-After 5: ${first}s at first`);
    await page.waitForTimeout(2100);
    const later = await seconds();
    assert.ok(later < first, `counted down: ${first}s, then ${later}s two seconds later`);
    // Then it is fetched, and the job finishes.
    await page.getByRole('heading', { name: 'Bundle complete' }).waitFor({ timeout: 30_000 });
  } finally {
    await page.close();
  }
});

test('a slow listing shows its count and can be stopped, without an error and without opening the results later', { skip }, async () => {
  const slowList = await startSlowListingServer({ pageSize: 3, total: 30, pageDelayMs: 300 });
  const page = await openApp();
  try {
    for (const source of [slowList.url, slowList.trickleUrl]) {
      await page.getByLabel('Server URL').fill(source);
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      if (source === slowList.url) await page.getByRole('status').filter({ hasText: /Listing results… ([3-9]|1\d|2\d) of 30/ }).waitFor();
      else await page.getByRole('status').filter({ hasText: 'Listing results…' }).waitFor();
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByRole('button', { name: 'Connect', exact: true }).and(page.locator(':enabled')).waitFor();
      assert.equal(await page.getByRole('status').filter({ hasText: 'Listing results' }).count(), 0);
    }
    // The stopped listings answer nothing later: no results screen, no error.
    await page.waitForTimeout(3500);
    assert.equal(await page.getByRole('heading', { name: 'Connect to a generation server' }).count(), 1);
    assert.equal(await page.locator('.toast').count(), 0, 'a stopped listing is not an error');
  } finally {
    await page.close();
    await slowList.close();
  }
});

test('the pages logged no errors', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});

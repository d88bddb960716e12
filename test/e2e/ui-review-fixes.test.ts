// UI problems a review found, each checked in Debian's Chromium through the browser host against
// demo servers and local folders (all on 127.0.0.1): Start with every result selected downloads
// the results the user saw, not ones that appeared since; removing an unfinished job asks first
// and leaves no stale job on screen; failures are worded by their kind (and BAD_ARGUMENT has a
// hint); the focus follows Pause, Resume and a dismissed Cancel, and the file list scrolls by
// keyboard; names with bidi controls cannot spoof their extension; no stale speed after Resume
// (nor at 100 % while the archive is finished); the pre-filled server is replaced by typing; at
// 900 px the folder icon stays with its path and an error does not cover Recent servers; a
// folder where another source's job runs says to wait, not to resume it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright';
import { startHost } from '../../electron/host/browser-host.ts';
import type { RunningHost } from '../../electron/host/browser-host.ts';
import { measuringSpeed } from '../../renderer/components/live-figures.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import type { DemoServer } from '../servers/demo-server.ts';
import { chooseFolder, connectTo, waitForPercentAbove } from './flow-steps.ts';
import { chromiumPath, launchChromium } from './helpers/chromium.ts';
import type { Browser } from './helpers/chromium.ts';
import { buildUi } from './helpers/ui-build.ts';

const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
let tmp: string;
let uiDir: string;
let host: RunningHost;
let browser: Browser;
/** Small files served at once: a job on it finishes in well under a second. */
let fast: DemoServer;
/** 30 files of 256 KiB at 64 KiB/s each: a job on it runs for as long as a test needs. */
let slow: DemoServer;
/** result_0002 answers 404: a job on it ends failed. */
let broken: DemoServer;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-ui-review-'));
  uiDir = await buildUi();
  fast = await startDemoServer({ count: 3, size: 16 * 1024 });
  slow = await startDemoServer({ count: 30, size: 256 * 1024, rateBytesPerSec: 64 * 1024 });
  broken = await startDemoServer({ count: 3, size: 16 * 1024, faults: (req) => (/result_0002\.mp4/.test(req.url ?? '') ? { kind: 'status', status: 404 } : undefined) });
  host = await startHost({ configDir: path.join(tmp, 'config'), uiDir, openPath: async () => {}, jobDefaults: { retries: 1, stallTimeoutMs: 5000 }, eventThrottleMs: 80 });
  browser = await launchChromium({ locale: 'en-US' });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await host?.close();
  await Promise.all([fast?.close(), slow?.close(), broken?.close()]);
  await rm(tmp, { recursive: true, force: true });
  await rm(uiDir, { recursive: true, force: true });
});

async function openApp(width = 1280): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.setViewportSize({ width, height: 820 });
  await page.goto(host.url);
  await page.getByRole('heading', { name: 'Connect to a generation server' }).waitFor();
  return page;
}

/** The Progress screen's figure under `label` (Speed, Time left…). */
function stat(page: Page, label: string): Locator {
  return page.locator('.stat').filter({ has: page.locator('.stat-label', { hasText: label }) }).locator('.stat-value');
}

/** Cancels the job the page shows and waits until its downloads are deleted. */
async function cancelJob(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Discard downloads' }).click();
  await page.getByText(/Cancelled\. (The|Its|Nothing)/).waitFor();
}

/** Describes the focused element, for assertions and their messages. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return `${el.tagName}: ${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}`;
  });
}

/** The focus description once it matches `expected` (or after 3 s, whatever it is). */
async function focusOn(page: Page, expected: RegExp): Promise<string> {
  const deadline = Date.now() + 3000;
  let now = await focused(page);
  while (!expected.test(now) && Date.now() < deadline) {
    await page.waitForTimeout(50);
    now = await focused(page);
  }
  return now;
}

test('Start with every result selected downloads the results shown, not ones that appeared since', { skip }, async () => {
  const source = path.join(tmp, 'growing');
  await mkdir(source);
  for (let i = 1; i <= 3; i++) await writeFile(path.join(source, `clip_${i}.mp4`), Buffer.alloc(4096, i));
  const page = await openApp();
  try {
    await connectTo(page, source);
    await page.getByText('3 selected').waitFor();
    // The generation server goes on producing while the user chooses a folder.
    for (let i = 4; i <= 5; i++) await writeFile(path.join(source, `clip_${i}.mp4`), Buffer.alloc(4096, i));
    const outDir = path.join(tmp, 'growing-out');
    await chooseFolder(page, outDir);
    await page.locator('label.tile').filter({ has: page.locator('input[name=mode][value=folder]') }).click();
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await page.getByRole('heading', { name: 'Download complete' }).waitFor({ timeout: 30_000 });
    const saved = (await readdir(outDir)).filter((n) => n.endsWith('.mp4')).sort();
    assert.deepEqual(saved, ['clip_1.mp4', 'clip_2.mp4', 'clip_3.mp4'], 'exactly the 3 results that were shown');
    await page.getByText('3 files saved in').waitFor();
  } finally {
    await page.close();
  }
});

test('removing an unfinished job asks first, deletes its downloads, and the job is gone from every screen', { skip }, async () => {
  const page = await openApp();
  try {
    // A finished job goes without a question: its archive stays.
    await connectTo(page, fast.url);
    const doneDir = path.join(tmp, 'forget-done');
    await chooseFolder(page, doneDir);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await page.getByRole('heading', { name: 'Bundle complete' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Jobs' }).click();
    const doneCard = page.locator('.job-card').filter({ hasText: doneDir });
    await doneCard.getByRole('button', { name: 'Remove from list' }).click();
    await doneCard.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('alertdialog').count(), 0, 'no question for a finished job');
    assert.equal((await readdir(doneDir)).filter((n) => n.endsWith('.zip')).length, 1, 'its archive stays');

    // A paused one: the question names the folder; Escape keeps it; yes deletes its downloads.
    await page.getByRole('button', { name: 'Server' }).click();
    await connectTo(page, slow.url);
    const pausedDir = path.join(tmp, 'forget-paused');
    await chooseFolder(page, pausedDir);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await waitForPercentAbove(page, 0);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    assert.equal(existsSync(path.join(pausedDir, '.reelpack')), true, 'a paused job keeps its downloads');
    await page.getByRole('button', { name: 'Jobs' }).click();
    const card = page.locator('.job-card').filter({ hasText: pausedDir });
    const trash = card.getByRole('button', { name: 'Remove from list' });
    await trash.click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /unfinished downloads in .*forget-paused are deleted/);
    assert.match(await focusOn(page, /^BUTTON: Keep$/), /^BUTTON: Keep$/, 'the question takes the focus on the harmless choice');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.match(await focusOn(page, /Remove from list/), /Remove from list/, 'Escape gives the focus back to the trash button');
    assert.equal(await card.count(), 1, 'Escape keeps the job');
    await trash.click();
    await page.getByRole('button', { name: 'Remove and delete downloads' }).click();
    await card.waitFor({ state: 'detached' });
    assert.equal(existsSync(path.join(pausedDir, '.reelpack')), false, 'its partial downloads are deleted');
    // The Progress screen does not keep showing the removed job (its Resume answered NOT_FOUND).
    assert.equal(await page.getByRole('button', { name: 'Progress' }).isDisabled(), true, 'no removed job to show');
    assert.equal(await page.locator('.toast').count(), 0, 'no error');
  } finally {
    await page.close();
  }
});

test('file failures and BAD_ARGUMENT are worded in the user\'s language, the engine\'s message as the detail', { skip }, async () => {
  const page = await openApp(900);
  try {
    // A string that is no address: BAD_ARGUMENT gets a hint, not "Something went wrong".
    await page.getByLabel('Server URL').fill('ht!tp://::::');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const toast = page.locator('.toast');
    await toast.getByText('BAD_ARGUMENT').waitFor();
    assert.match((await toast.locator('strong').textContent()) ?? '', /^Reelpack cannot use what was entered/);
    await page.keyboard.press('Escape');

    await connectTo(page, broken.url);
    await chooseFolder(page, path.join(tmp, 'reasons'));
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await page.getByText('1 file failed. The rest are kept: retry to fetch it, or finish without it.').waitFor({ timeout: 30_000 });
    const badge = page.getByRole('listitem').filter({ hasText: 'result_0002.mp4' }).locator('.badge');
    assert.equal((await badge.textContent())?.trim(), 'failed: Not found on the server (HTTP 404)');
    assert.match((await badge.getAttribute('title')) ?? '', /^HTTP 404 from /, 'the engine\'s message is the tooltip');
    // Readable at 900 px without hovering: nothing of it is cut off.
    const clipped = await badge.evaluate((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
    assert.equal(clipped, false, 'the reason is cut off at 900 px');

    await page.getByRole('button', { name: 'Bundle without them' }).click();
    await page.getByRole('heading', { name: 'Bundle complete' }).waitFor({ timeout: 30_000 });
    await page.locator('.failed-list summary').click();
    const item = page.locator('.failed-list li').filter({ hasText: 'result_0002.mp4' });
    await item.getByText('Not found on the server (HTTP 404)', { exact: true }).waitFor();
    await item.getByText(/^HTTP 404 from /).waitFor();

    // In Chinese.
    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
    await item.getByText('服务器上找不到此文件（HTTP 404）', { exact: true }).waitFor();
    await page.getByRole('combobox', { name: '语言' }).selectOption('auto');
    await page.getByRole('heading', { name: 'Bundle complete' }).waitFor();
  } finally {
    await page.close();
  }
});

test('the focus follows Pause, Resume and a dismissed Cancel; the file list scrolls by keyboard; no stale speed after Resume', { skip }, async () => {
  const page = await openApp();
  try {
    await connectTo(page, slow.url);
    await chooseFolder(page, path.join(tmp, 'keyboard'));
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await waitForPercentAbove(page, 0);
    await page.waitForFunction(() => /\d/.test(document.querySelectorAll('.stat-value')[1]?.textContent ?? ''), undefined, { timeout: 10_000 });

    await page.getByRole('button', { name: 'Pause' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    assert.equal(await focusOn(page, /^BUTTON: Resume$/), 'BUTTON: Resume', 'after Pause');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    // At once: the last run's speed and ETA would say it moves while nothing does yet.
    const right = { speed: await stat(page, 'Speed').textContent(), eta: await stat(page, 'Time left').textContent() };
    assert.deepEqual(right, { speed: '—', eta: '—' }, 'right after Resume, before the job measured a speed');
    assert.equal(await focusOn(page, /^BUTTON: Pause$/), 'BUTTON: Pause', 'after Resume');
    // Then the new speed.
    await page.waitForFunction(() => /\d/.test(document.querySelectorAll('.stat-value')[1]?.textContent ?? ''), undefined, { timeout: 10_000 });

    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alertdialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    assert.equal(await focusOn(page, /^BUTTON: Cancel$/), 'BUTTON: Cancel', 'after Escape on the cancel question');

    // The file list is a Tab stop with a name, and the keyboard scrolls it.
    const list = page.getByRole('list', { name: 'Files' });
    assert.equal(await list.getAttribute('tabindex'), '0');
    await list.focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => (document.querySelector('.file-list')?.scrollTop ?? 0) > 0, undefined, { timeout: 3000 }).catch(() => {});
    assert.ok(await list.evaluate((el) => el.scrollTop > 0), 'End scrolled the file list');
    await cancelJob(page);
  } finally {
    await page.close();
  }
});

test('Speed and Time left say nothing once every byte is in while the archive is finished, or while listing', () => {
  const progress = { bytesDone: 100, bytesTotal: 100, sizesKnown: true };
  assert.equal(measuringSpeed('running', progress, { listing: false, stale: false }), false, '100 %: zipping and verifying, not downloading');
  assert.equal(measuringSpeed('running', { ...progress, bytesDone: 50 }, { listing: false, stale: false }), true);
  assert.equal(measuringSpeed('running', { ...progress, bytesDone: 50 }, { listing: true, stale: false }), false, 'listing again');
  assert.equal(measuringSpeed('running', { ...progress, bytesDone: 50 }, { listing: false, stale: true }), false, 'just resumed');
  assert.equal(measuringSpeed('paused', { ...progress, bytesDone: 50 }, { listing: false, stale: false }), false);
  // Sizes still unknown (a URL list): the total grows, so bytes done reaching it means nothing.
  assert.equal(measuringSpeed('running', { ...progress, sizesKnown: false }, { listing: false, stale: false }), true);
});

test('a server name with bidi controls shows them instead of reading as another extension', { skip }, async () => {
  const source = path.join(tmp, 'bidi');
  await mkdir(source);
  await writeFile(path.join(source, 'RTL\u202Egnp.exe.mp4'), Buffer.alloc(2048, 7));
  await writeFile(path.join(source, 'zero\u200Bwidth.mp4'), Buffer.alloc(2048, 8));
  const page = await openApp();
  try {
    await connectTo(page, source);
    const names = await page.locator('.tbody .td-name').allTextContents();
    assert.deepEqual(names.sort(), ['RTL\uFFFDgnp.exe.mp4', 'zero\uFFFDwidth.mp4']);
    const row = page.locator('.tbody .td-name').filter({ hasText: 'gnp.exe' });
    assert.equal(await row.getAttribute('title'), 'RTL\uFFFDgnp.exe.mp4', 'the tooltip shows the same');
    assert.equal(await page.locator('.tbody .tr').filter({ hasText: 'gnp.exe' }).getByRole('checkbox').getAttribute('aria-label'), 'Select RTL\uFFFDgnp.exe.mp4');
  } finally {
    await page.close();
  }
});

test('the pre-filled server is selected on the first focus: typing replaces it', { skip }, async () => {
  const first = await openApp();
  await connectTo(first, fast.url).finally(() => first.close()); // the last server, filled in next time
  const page = await openApp();
  try {
    const field = page.getByLabel('Server URL');
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('.connect-card input[type=text]')?.value ?? '') !== '', undefined, { timeout: 5000 });
    assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('.connect-card input[type=text]')), true);
    await page.keyboard.type('127.0.0.1:9');
    assert.equal(await field.inputValue(), '127.0.0.1:9');
  } finally {
    await page.close();
  }
});

test('at 900 px the folder icon stays beside its path, and an error does not cover Recent servers', { skip }, async () => {
  const page = await openApp(900);
  try {
    // A long folder path, which wraps.
    const outDir = path.join(tmp, 'a-rather-long-folder-name-for-the-header', 'and-another-level-below-it');
    await connectTo(page, slow.url);
    await chooseFolder(page, outDir);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await page.getByRole('heading', { name: /^Downloading/ }).waitFor();
    const gap = await page.locator('.screen-progress .path-line').evaluate((line, dir) => {
      const icons = line.querySelectorAll('svg');
      const icon = icons[icons.length - 1]!.getBoundingClientRect();
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      let text: Text | null = null;
      while (walker.nextNode()) if ((walker.currentNode.textContent ?? '').includes(dir)) text = walker.currentNode as Text;
      const range = document.createRange();
      range.selectNodeContents(text!);
      const first = range.getClientRects()[0]!;
      // Same line: the icon's middle is within the path's first line, and it is just left of it.
      return { dy: Math.abs((icon.top + icon.bottom) / 2 - (first.top + first.bottom) / 2), dx: first.left - icon.right };
    }, outDir);
    assert.ok(gap.dy < 8 && gap.dx >= 0 && gap.dx < 16, `folder icon away from its path: ${JSON.stringify(gap)}`);
    await cancelJob(page);

    // Three recent servers fill the window's lower half, where a floating toast would sit.
    for (const server of [fast, broken]) {
      await page.getByRole('button', { name: 'Server' }).click();
      await connectTo(page, server.url);
    }
    await page.setViewportSize({ width: 900, height: 700 });
    await page.getByRole('button', { name: 'Server' }).click();
    assert.ok(await page.locator('.recent-item').count() >= 3);
    await page.getByLabel('Server URL').fill('ht!tp://::::');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const toast = page.locator('.toast');
    await toast.waitFor();
    const t = (await toast.boundingBox())!;
    for (const item of await page.locator('.recent-item').all()) {
      const b = (await item.boundingBox())!;
      const overlap = t.x < b.x + b.width && b.x < t.x + t.width && t.y < b.y + b.height && b.y < t.y + t.height;
      assert.equal(overlap, false, `the error covers a recent server: toast y ${Math.round(t.y)}–${Math.round(t.y + t.height)}, item y ${Math.round(b.y)}–${Math.round(b.y + b.height)}`);
    }
  } finally {
    await page.close();
  }
});

test('a folder where another source\'s job is running says to wait for it, not to resume it', { skip }, async () => {
  const page = await openApp();
  try {
    const folder = path.join(tmp, 'shared-folder');
    await connectTo(page, slow.url);
    await chooseFolder(page, folder);
    await page.getByRole('button', { name: 'Download and bundle' }).click();
    await waitForPercentAbove(page, 0);
    await page.getByRole('button', { name: 'Server' }).click();
    await connectTo(page, fast.url);
    await page.getByRole('button', { name: 'Next: choose folder' }).click();
    await page.getByLabel('Save to').fill(folder);
    const line = page.locator('.folder-status .status-line');
    await line.getByText(/is running in this folder/).waitFor();
    assert.match((await line.textContent()) ?? '', /A job from http:\/\/127\.0\.0\.1:\d+\S* is running in this folder\. Wait for it to finish, or choose another folder\./);
    assert.doesNotMatch((await line.textContent()) ?? '', /resume/i);
    assert.equal(await page.getByRole('button', { name: 'Download and bundle' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Progress' }).click();
    await cancelJob(page);
  } finally {
    await page.close();
  }
});

test('the pages logged no errors', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});

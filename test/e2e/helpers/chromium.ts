// Debian's Chromium under Playwright (no browser download here), a fresh profile each launch.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright';
import type { BrowserContext } from 'playwright';

export const chromiumPath = process.env.REELPACK_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(options: { locale?: string; downloadsDir?: string } = {}): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'reelpack-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    locale: options.locale ?? 'en-US',
    viewport: { width: 1280, height: 820 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// Screenshots of every screen in both languages go to test-artifacts/screenshots/ (gitignored).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright';

export const screenshotDir = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));

export async function snap(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.waitForTimeout(150); // let transitions settle
  await page.screenshot({ path: file });
  return file;
}

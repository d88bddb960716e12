// The steps a user clicks through, by role and accessible name (the fixed en names).
import type { Page } from 'playwright';

export async function connectTo(page: Page, serverUrl: string): Promise<void> {
  await page.getByLabel('Server URL').fill(serverUrl);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByRole('heading', { name: 'Results' }).waitFor();
}

export async function selectAll(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Select none' }).click();
  await page.getByRole('checkbox', { name: 'Select all' }).check();
}

export async function chooseFolder(page: Page, folder: string): Promise<void> {
  await page.getByRole('button', { name: 'Next: choose folder' }).click();
  await page.getByLabel('Save to').fill(folder);
  await page.getByText(/Writable|Will be created/).waitFor();
}

export async function overallPercent(page: Page): Promise<number> {
  return Number(await page.getByRole('progressbar', { name: 'Overall progress' }).getAttribute('aria-valuenow'));
}

export async function waitForPercentAbove(page: Page, min: number, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while ((await overallPercent(page)) <= min) {
    if (Date.now() > deadline) throw new Error(`overall progress stayed at or below ${min}%`);
    await page.waitForTimeout(50);
  }
}

export async function waitForDone(page: Page, timeout = 60_000): Promise<void> {
  await page.getByRole('heading', { name: 'Bundle complete' }).waitFor({ timeout });
}

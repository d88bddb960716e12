// Small JSON files in the config dir, written atomically so a crash never leaves half a file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { retryWhileLocked } from '../fs-retry.ts';

export async function readJsonFile<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return fallback; // missing or damaged: start fresh rather than refuse to launch
  }
}

let counter = 0;
export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++counter}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await retryWhileLocked(() => rename(tmp, file));
}

/** Serialises writes to one file so the last state always wins. */
export function serialWriter(file: string): (value: unknown) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (value) => {
    const snapshot = JSON.parse(JSON.stringify(value)) as unknown;
    chain = chain.catch(() => {}).then(() => writeJsonFile(file, snapshot));
    return chain;
  };
}

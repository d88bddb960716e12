// Making writes durable: the one place files and folders are fsynced.
import { open } from 'node:fs/promises';

/** fsync through a new descriptor: it flushes the file's data however it was written. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder so a rename or a new file in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => {}); // not supported on every platform (Windows)
  await handle.close();
}

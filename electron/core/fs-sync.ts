// Making writes durable: the one place files and folders are fsynced.
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { retryWhileLocked } from './fs-retry.ts';

/** fsync through a new descriptor: it flushes the file's data however it was written. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder so a rename or a new file in it survives a power cut. Best effort: not possible on Windows, where a rename is still atomic. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => {}); // not supported on every platform (Windows)
  await handle.close();
}

/** Replaces `path` with `text` so that a crash leaves the old or the new file whole, never half of one: temp file, fsync, rename, fsync of the folder. */
export async function replaceFileDurably(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await retryWhileLocked(() => rename(temp, path));
  await syncDir(dirname(path));
}

/** Bytes written between two background fdatasyncs (see SyncBehind). */
export const syncBehindBytes = 64 * 1024 * 1024;

/**
 * Flushes a file to the disk behind its writer: after every `syncBehindBytes` written it starts
 * a sync, at most one at a time. The fsync that must precede a commit or rename then finds
 * little left to write, instead of the whole file while every core waits: a 1 GiB download
 * ended in ~0.4 s of fsync with nothing else running. Errors are left to that final fsync.
 */
export class SyncBehind {
  private readonly sync: () => Promise<void>;
  private unsynced = 0;
  private running: Promise<void> | null = null;

  constructor(sync: () => Promise<void>) {
    this.sync = sync;
  }

  /** `bytes` more reached the file (a completed write). */
  wrote(bytes: number): void {
    this.unsynced += bytes;
    if (this.running || this.unsynced < syncBehindBytes) return;
    this.unsynced = 0;
    this.running = this.sync().then(
      () => { this.running = null; },
      () => { this.running = null; },
    );
  }

  /** Resolves when no sync is running (before the file is closed, or fsynced for good). */
  async settled(): Promise<void> {
    await this.running;
  }
}

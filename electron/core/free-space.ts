// The one free-space check (fs.statfs), made before downloads and before an archive starts.
import fs from 'node:fs/promises';
import { ReelpackError } from './errors.ts';
import { formatBytes } from './units.ts';

/** Throws DISK_FULL when `dir`'s file system has less than `neededBytes` available to us. */
export async function checkFreeSpace(dir: string, neededBytes: number, purpose: string): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < neededBytes) {
    throw new ReelpackError('DISK_FULL', `not enough free space ${purpose}: need ${formatBytes(neededBytes)}, ${formatBytes(free)} free in ${dir}`);
  }
}

// The one free-space check (fs.statfs), made before downloads and before an archive starts.
import fs from 'node:fs/promises';
import { ReelpackError } from './errors.ts';
import { formatBytes } from './units.ts';

/**
 * Throws DISK_FULL when `dir`'s file system has less than `neededBytes` available to us. One
 * that cannot say (statfs fails on some network paths on Windows; some FUSE and network file
 * systems report no blocks at all) is not checked: a disk that fills is still caught on write.
 */
export async function checkFreeSpace(dir: string, neededBytes: number, purpose: string): Promise<void> {
  const stats = await fs.statfs(dir).catch(() => null);
  if (!stats || stats.blocks === 0) return;
  const free = stats.bavail * stats.bsize;
  if (free < neededBytes) {
    throw new ReelpackError('DISK_FULL', `not enough free space ${purpose}: need ${formatBytes(neededBytes)}, ${formatBytes(free)} free in ${dir}`);
  }
}

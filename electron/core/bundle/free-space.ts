// The free-space check made before an archive is started.
import fs from 'node:fs/promises';
import { ReelpackError } from '../errors.ts';

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Throws DISK_FULL when `dir`'s file system has less than `neededBytes` available to us. */
export async function checkFreeSpace(dir: string, neededBytes: number): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < neededBytes) {
    throw new ReelpackError('DISK_FULL', `not enough free space for the archive: need ${formatBytes(neededBytes)}, ${formatBytes(free)} free in ${dir}`);
  }
}

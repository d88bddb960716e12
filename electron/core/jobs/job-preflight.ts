// Checks made before a job writes anything: options that would fail later, the destination
// folder, and free space for what is left to download and bundle.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { minVolumeSize } from '../bundle/volume-limits.ts';
import { ReelpackError } from '../errors.ts';
import { isHttpSource } from '../sources/list-source.ts';
import { checkFreeSpace } from '../free-space.ts';
import type { JobOptions } from './job-runner.ts';
import type { JobItem, JobState } from './journal.ts';

/**
 * Creates the destination one level at a time. Node's recursive mkdir never returns under
 * some special file systems (/proc), and its errors name no folder a user would recognise.
 */
export async function createDestination(outDir: string): Promise<void> {
  const missing: string[] = [];
  let dir = outDir;
  for (;;) {
    const info = await stat(dir).catch(() => null);
    if (info) {
      if (!info.isDirectory()) throw new ReelpackError('USAGE', `cannot create destination ${outDir}: ${dir} is not a folder`);
      break;
    }
    missing.unshift(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const path of missing) {
    await mkdir(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw new ReelpackError('USAGE', `cannot create destination ${outDir}: ${error.code ?? error.message} at ${path}`);
    });
  }
}

/** Options that would fail later are refused before anything is written (the journal would keep them). */
export function checkJobOptions(options: Pick<JobOptions, 'volumeSize' | 'token'>): void {
  if (options.volumeSize !== undefined && options.volumeSize < minVolumeSize) {
    throw new ReelpackError('USAGE', `volume size too small: ${options.volumeSize} bytes (--volume-size must be at least ${minVolumeSize / 1024} KiB)`);
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new ReelpackError('USAGE', 'the token must be printable ASCII without spaces or line breaks');
  }
}

/** Room for what is left to download plus the archive, before a job writes anything. */
export async function checkJobFreeSpace(outDir: string, state: JobState, partPathOf: (item: JobItem) => string): Promise<void> {
  let pending = 0;
  for (const item of state.items) {
    if (state.done.has(item.i)) continue;
    const have = await stat(partPathOf(item)).then((s) => s.size, () => 0);
    pending += Math.max(0, (item.size ?? 0) - have);
  }
  const downloads = state.header.mode === 'zip' && state.items.every((i) => !isHttpSource(i.url)) ? 0 : pending;
  const archive = state.header.mode === 'folder' ? 0 : state.items.reduce((s, i) => s + (i.size ?? 0), 0);
  await checkFreeSpace(outDir, downloads + archive, downloads > 0 && archive > 0 ? 'for the downloads and the archive' : downloads > 0 ? 'for the downloads' : 'for the archive');
}

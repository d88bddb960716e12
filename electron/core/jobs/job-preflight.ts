// Checks made before a job writes anything: options that would fail later, the destination
// folder, and free space for what is left to download and bundle.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { minVolumeSize } from '../bundle/volume-limits.ts';
import { ReelpackError } from '../errors.ts';
import { isHttpSource } from '../sources/list-source.ts';
import { stateFolderName } from '../sources/local-folder.ts';
import { checkFreeSpace } from '../free-space.ts';
import { formatSizeOption } from '../units.ts';
import type { JobOptions } from './job-runner.ts';
import type { JobHeader, JobItem, JobState } from './journal.ts';

/**
 * Creates --out (and its missing parents) and the job's working folder in it; USAGE when it
 * cannot. One level at a time: Node's recursive mkdir never returns under some special file
 * systems (/proc), and its errors name no folder a user would recognise.
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
  // An existing folder may still refuse writes (read-only mount, permissions). Not recursive:
  // outDir exists now, and a recursive mkdir reports a read-only mount as ENOENT.
  await mkdir(join(outDir, stateFolderName)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return;
    const why = error.code === 'EROFS' ? 'read-only file system' : error.code === 'EACCES' || error.code === 'EPERM' ? 'permission denied' : error.code ?? error.message;
    throw new ReelpackError('USAGE', `cannot write to destination ${outDir}: ${why}`);
  });
}

/** Options that would fail later are refused before anything is written (the journal would keep them). */
export function checkJobOptions(options: Pick<JobOptions, 'volumeSize' | 'token' | 'outDir' | 'zipName'>): void {
  if (options.zipName !== undefined) {
    // The job's working folder is deleted when the job finishes: an archive there would go with it.
    const stateDir = join(resolve(options.outDir), stateFolderName);
    const archive = resolve(options.outDir, options.zipName);
    // Compared without case where the file system usually ignores it (".Reelpack" is the same folder there).
    const fold = (p: string) => (process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p);
    if (fold(archive) === fold(stateDir) || fold(archive).startsWith(fold(stateDir) + sep)) {
      throw new ReelpackError('USAGE', `--zip ${options.zipName}: the archive cannot go in ${stateDir}, the job's working folder (deleted when the job finishes)`);
    }
  }
  if (options.volumeSize !== undefined && options.volumeSize < minVolumeSize) {
    throw new ReelpackError('USAGE', `volume size too small: ${options.volumeSize} bytes (--volume-size must be at least ${formatSizeOption(minVolumeSize)})`);
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new ReelpackError('USAGE', 'the token must be printable ASCII without spaces or line breaks');
  }
}

/** What a job will write, for its free-space estimate. */
export interface SpacePlan {
  mode: JobHeader['mode'];
  volumeSize?: number | undefined;
  concurrency: number;
  /** Bytes still to download (listed sizes, less what part files already hold). */
  pendingBytes: number;
  /** Bytes of every selected file: the archives hold them all. */
  totalBytes: number;
  /** The largest listed file. */
  largestBytes: number;
  /** Some files are downloaded (staged); false when all are read in place from a local folder. */
  downloads: boolean;
}

/**
 * Finished downloads being committed (fsync, rename, hand-over to the sink) at once, per
 * connection: a download worker waits before its next file while there are more.
 */
export const commitsPerConnection = 2;

/**
 * Zip mode with volumes deletes staged files volume by volume, so downloads need not stage the
 * whole batch: they wait (ZipSinkOptions.stagingLimit) while more than a volume plus one file
 * per connection is staged outside the open volume. Undefined when nothing is deleted before
 * the end (one archive, both mode) or nothing is staged (a local folder is read in place).
 */
function stagingLimitOf(plan: Omit<SpacePlan, 'pendingBytes' | 'totalBytes'>): number | undefined {
  if (plan.mode !== 'zip' || !plan.volumeSize || !plan.downloads) return undefined;
  return plan.volumeSize + plan.concurrency * plan.largestBytes;
}

export function stagingLimitBytes(header: Pick<JobHeader, 'mode' | 'volumeSize'>, items: readonly JobItem[], concurrency: number): number | undefined {
  return stagingLimitOf(planOf(header, items, concurrency));
}

/** A job's space plan from its header and files, all but what is left to download. */
function planOf(header: Pick<JobHeader, 'mode' | 'volumeSize'>, items: readonly JobItem[], concurrency: number): Omit<SpacePlan, 'pendingBytes'> {
  let totalBytes = 0;
  let largestBytes = 0;
  for (const item of items) {
    totalBytes += item.size ?? 0;
    largestBytes = Math.max(largestBytes, item.size ?? 0);
  }
  return { mode: header.mode, volumeSize: header.volumeSize, concurrency, totalBytes, largestBytes, downloads: items.some((i) => isHttpSource(i.url)) };
}

/**
 * The one free-space estimate: the job's check before it starts and the app's folder check
 * both use it. Downloads are staged (zip mode) or kept (folder, both); archives hold
 * everything. Under a staging limit the downloads need at most: the open volume (a volume,
 * or one file larger than that), the limit outside it, and four files per connection: its
 * part file, and the commits not yet handed to the sink (fewer than `commitsPerConnection`
 * + 1 per connection). Not counted: part files kept by downloads waiting to retry or failed
 * for good, and files the listing gave no size for; the estimate is low there.
 */
export function spaceNeeded(plan: SpacePlan): { downloads: number; archive: number } {
  let downloads = plan.mode === 'zip' && !plan.downloads ? 0 : plan.pendingBytes;
  const limit = stagingLimitOf(plan);
  if (limit !== undefined) {
    const largest = plan.largestBytes;
    downloads = Math.min(downloads, Math.max(plan.volumeSize ?? 0, largest) + limit + (commitsPerConnection + 2) * plan.concurrency * largest);
  }
  return { downloads, archive: plan.mode === 'folder' ? 0 : plan.totalBytes };
}

/** Room for what is left to download plus the archive, before a job writes anything (spaceNeeded). */
export async function checkJobFreeSpace(outDir: string, state: JobState, partPathOf: (item: JobItem) => string, concurrency: number): Promise<void> {
  let pendingBytes = 0;
  for (const item of state.items) {
    if (state.done.has(item.i)) continue;
    const have = await stat(partPathOf(item)).then((s) => s.size, () => 0);
    pendingBytes += Math.max(0, (item.size ?? 0) - have);
  }
  const { downloads, archive } = spaceNeeded({ ...planOf(state.header, state.items, concurrency), pendingBytes });
  await checkFreeSpace(outDir, downloads + archive, downloads > 0 && archive > 0 ? 'for the downloads and the archive' : downloads > 0 ? 'for the downloads' : 'for the archive');
}

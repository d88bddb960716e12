// Crash-safe record of finished volumes, so a run after a crash (kill -9, power loss) keeps
// them and rebuilds only the unfinished one. Written atomically: temp file, fsync, rename,
// fsync of the folder. A volume is recorded once its .part is written, verified and fsynced,
// just before the rename (a crash between the two leaves a .part the next run renames), and
// its staged files are released only after the rename is durable.
// Each volume's file list is written once, to a file of its own: with the lists inline, every
// volume rewrote (and fsynced) the lists of all volumes before it, quadratic in the volumes
// (estimated, not run: 100 000 files in 1 250 volumes would write ~13 GB of JSON per job).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { OutputFile } from '../jobs/job-events.ts';
import { replaceFileDurably } from '../fs-sync.ts';

export const bundleStateFile = 'bundle-state.json';

export interface FinishedVolume {
  /** 1-based volume number, or null for a single archive. */
  volume: number | null;
  fileName: string;
  size: number;
  sha256: string;
  /** Source bytes inside. */
  bytes: number;
  files: Array<{ id: string; path: string; sha256: string }>;
}

export interface BundleState {
  /** 2: file lists in files of their own; 1 (earlier runs): inline, still read. */
  version: 1 | 2;
  /** Folder and base name of the set, fixed by the first run (the default name holds a time). */
  dir: string;
  base: string;
  volumeSize: number | null;
  volumes: FinishedVolume[];
  /** Set by finish(): the job's archives are all written. */
  outputs?: OutputFile[] | undefined;
}

/** A finished volume as bundle-state.json holds it: its file list is in `filesFile`. */
type StoredVolume = Omit<FinishedVolume, 'files'> & { files?: FinishedVolume['files']; filesFile?: string };

/**
 * The file holding each volume's list, for volumes whose list is already on disk (loaded, or
 * saved by this process). Kept with the volume, never derived from its position: when a
 * finished volume is dropped (missing on resume), the ones after it move up in the array, and a
 * name from the position made them point at their neighbours' lists.
 */
const listFiles = new WeakMap<FinishedVolume, string>();

/** A list file name not used by any other volume: named after the volume's number. */
function newListFileName(volume: FinishedVolume, taken: ReadonlySet<string>): string {
  const stem = `bundle-volume-${volume.volume ?? 1}`;
  let name = `${stem}.json`;
  for (let k = 2; taken.has(name); k++) name = `${stem}-${k}.json`;
  return name;
}

export async function loadBundleState(stateDir: string): Promise<BundleState | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(stateDir, bundleStateFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const stored = JSON.parse(text) as Omit<BundleState, 'volumes'> & { volumes: StoredVolume[] };
  if ((stored.version !== 1 && stored.version !== 2) || !Array.isArray(stored.volumes)) throw new Error(`unknown bundle state in ${stateDir}`);
  const volumes: FinishedVolume[] = [];
  for (const { filesFile, files, ...volume } of stored.volumes) {
    if (!files && !filesFile) throw new Error(`bundle state in ${stateDir} has no file list for ${volume.fileName}`);
    const list = files ?? (JSON.parse(await fs.readFile(path.join(stateDir, filesFile!), 'utf8')) as FinishedVolume['files']);
    const loaded = { ...volume, files: list };
    if (filesFile) listFiles.set(loaded, filesFile);
    volumes.push(loaded);
  }
  return { ...stored, version: 2, volumes };
}

export async function saveBundleState(stateDir: string, state: BundleState): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  const volumes: StoredVolume[] = [];
  const taken = new Set(state.volumes.map((v) => listFiles.get(v)).filter((name) => name !== undefined));
  for (const finished of state.volumes) {
    const { files, ...volume } = finished;
    let filesFile = listFiles.get(finished);
    if (filesFile === undefined) {
      filesFile = newListFileName(finished, taken);
      taken.add(filesFile);
      await replaceFileDurably(path.join(stateDir, filesFile), JSON.stringify(files));
      listFiles.set(finished, filesFile);
    }
    volumes.push({ ...volume, filesFile });
  }
  await replaceFileDurably(path.join(stateDir, bundleStateFile), `${JSON.stringify({ ...state, version: 2, volumes }, null, 1)}\n`);
}

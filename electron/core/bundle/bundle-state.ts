// Crash-safe record of finished volumes, so a run after a crash (kill -9, power loss) keeps
// them and rebuilds only the unfinished one. Written atomically: temp file, fsync, rename,
// fsync of the folder. A volume is recorded only after its archive is renamed and fsynced,
// and its staged files are released only after that record is durable.
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
  version: 1;
  /** Folder and base name of the set, fixed by the first run (the default name holds a time). */
  dir: string;
  base: string;
  volumeSize: number | null;
  volumes: FinishedVolume[];
  /** Set by finish(): the job's archives are all written. */
  outputs?: OutputFile[] | undefined;
}

export async function loadBundleState(stateDir: string): Promise<BundleState | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(stateDir, bundleStateFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const state = JSON.parse(text) as BundleState;
  if (state.version !== 1 || !Array.isArray(state.volumes)) throw new Error(`unknown bundle state in ${stateDir}`);
  return state;
}

export async function saveBundleState(stateDir: string, state: BundleState): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  await replaceFileDurably(path.join(stateDir, bundleStateFile), `${JSON.stringify(state, null, 1)}\n`);
}


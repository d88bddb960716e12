// One reelpack run per destination: a lock file with the owner's pid. A lock whose owner
// is gone (crash, kill -9) is taken over. The app runs every job in one process, so the pid
// alone cannot tell its jobs apart: locks this process holds are also kept in `heldHere`.
import { readFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve, win32 } from 'node:path';
import { ReelpackError } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A run killed by kill -9 stays a zombie until its parent waits for it (a shell that has
  // not yet, a container without an init that never will): signals still "reach" it.
  return !['Z', 'X'].includes(processState(pid) ?? '');
}

/** Linux: the state letter in /proc/<pid>/stat (R, S, Z…); undefined elsewhere. */
function processState(pid: number): string | undefined {
  return procStatFields(pid)?.[0]; // field 3
}

/** /proc/<pid>/stat from field 3 (state) on: after the command name, which may hold spaces. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When a process started (Linux: /proc/<pid>/stat, in clock ticks since boot), so a lock whose
 * pid now belongs to another program (after a reboot, or pids wrapping) is known to be stale;
 * undefined where it cannot be read (other systems: the pid alone decides).
 */
export function processStart(pid: number): string | undefined {
  return procStatFields(pid)?.[19]; // field 22, starttime
}

/**
 * When this machine booted (seconds since 1970). A lock written before it is stale whatever its
 * pid says: where /proc is missing (Windows, macOS) a pid reused after a reboot (an overnight
 * update) would otherwise keep the folder locked until someone deleted the lock by hand.
 */
const bootSlackSeconds = 600;

function bootTime(): number {
  return Math.round(Date.now() / 1000 - uptime());
}

/**
 * One key per folder however its path is typed: Windows and macOS (by default) compare names
 * without case, and macOS may hand over NFD. Two jobs of the app on "D:\\Videos" and
 * "d:\\videos" are one folder, and must meet the same lock.
 */
export function folderKey(folder: string, platform: NodeJS.Platform = process.platform): string {
  const resolved = (platform === 'win32' ? win32.resolve(folder) : resolve(folder)).normalize('NFC');
  return platform === 'win32' || platform === 'darwin' ? resolved.toLowerCase() : resolved;
}

/** Lock files this process holds now (a lock file with our pid that is not here is a stale one from a reused pid). */
const heldHere = new Set<string>();

export async function acquireJobLock(stateDir: string, outDir: string): Promise<() => Promise<void>> {
  const path = join(stateDir, 'lock');
  const key = folderKey(path);
  // Checked and claimed before any await: two jobs of this process starting at once cannot both pass.
  if (heldHere.has(key)) throw new ReelpackError('LOCKED', `another job is already working in ${outDir}; wait for it, or pause or cancel it first`);
  heldHere.add(key);
  try {
    for (let tries = 0; tries < 3; tries++) {
      if (await createLockFile(path)) {
        return async () => {
          await unlink(path).catch(() => {});
          heldHere.delete(key);
        };
      }
      await refuseLiveOwner(path, outDir);
      await unlink(path).catch(() => {});
    }
    throw new ReelpackError('LOCKED', `could not lock ${outDir}`);
  } catch (error) {
    heldHere.delete(key);
    throw error;
  }
}

/** Creates the lock file; false if one exists already. */
async function createLockFile(path: string): Promise<boolean> {
  try {
    const file = await open(path, 'wx');
    try {
      await file.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), started: processStart(process.pid), boot: bootTime() }));
    } finally {
      await file.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

/** Throws LOCKED if the existing lock's owner is another live process (here or on another host); returns if it is stale. */
async function refuseLiveOwner(path: string, outDir: string): Promise<void> {
  let owner: { pid?: number; host?: string; started?: string; boot?: number } = {};
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
  } catch {
    // unreadable: a crash between create and write; treat as stale
  }
  // Our own pid on a lock not in heldHere: an earlier process that had the same pid (a reboot).
  const sameProcess = (pid: number) => {
    const started = processStart(pid);
    return owner.started === undefined || started === undefined || started === owner.started;
  };
  // Written before this machine last booted: its owner is gone. Only where the owner's start
  // time could not be recorded (Windows, macOS): boot times move with the wall clock (an NTP
  // step, a VM resumed), and where the start time exists it settles the question by itself.
  if (owner.host === hostname() && owner.started === undefined && typeof owner.boot === 'number' && owner.boot < bootTime() - bootSlackSeconds) return;
  if (owner.pid && owner.host === hostname() && owner.pid !== process.pid && alive(owner.pid) && sameProcess(owner.pid)) {
    throw new ReelpackError('LOCKED', `another reelpack (pid ${owner.pid}) is already working in ${outDir}; wait for it or stop it first`);
  }
  if (owner.pid && owner.host && owner.host !== hostname()) {
    throw new ReelpackError('LOCKED', `${outDir} is in use by reelpack on ${owner.host} (pid ${owner.pid}); delete ${path} if that run is gone`);
  }
}

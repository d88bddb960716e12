// Validates a folder the user typed or picked: absolute, a directory (or creatable), writable,
// and how much space is free on its volume.
import { constants } from 'node:fs';
import { access, open, stat, statfs, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FolderCheck } from '../contract.ts';

export function expandFolderPath(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '~') return os.homedir();
  if (trimmed.startsWith('~/') || trimmed.startsWith('~\\')) return path.join(os.homedir(), trimmed.slice(2));
  return trimmed;
}

async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** statfs types of Linux kernel views: proc, sysfs, devpts, cgroup, cgroup2, debugfs, tracefs, securityfs. */
const virtualFileSystems = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673]);

/**
 * Whether files can be made in `dir`. On Windows access() looks at the read-only flag only, not
 * at permissions (Node's fs.access documentation): C:\\, Program Files or a folder guarded by
 * Controlled Folder Access pass it, and the job would fail at its first file. There a probe file
 * is made and deleted instead.
 */
async function canWrite(dir: string): Promise<boolean> {
  if (process.platform !== 'win32') return access(dir, constants.W_OK).then(() => true, () => false);
  const probe = path.join(dir, `.reelpack-write-test-${process.pid}`);
  try {
    await (await open(probe, 'wx')).close();
    await unlink(probe);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST';
  }
}

export async function checkFolder(input: string, findJob: (dir: string) => Promise<{ source: string } | null>): Promise<FolderCheck> {
  const expanded = expandFolderPath(input);
  const result: FolderCheck = { path: expanded, exists: false, writable: false, freeBytes: null, neededBytes: null, problem: null, interruptedJob: null, busy: false };
  if (!expanded) return { ...result, problem: 'empty' };
  if (!path.isAbsolute(expanded)) return { ...result, problem: 'not-absolute' };
  const dir = path.resolve(expanded);
  result.path = dir;
  const existing = await nearestExisting(dir);
  const info = await stat(existing).catch(() => null);
  if (!info) return { ...result, problem: 'missing' };
  result.exists = existing === dir;
  if (!info.isDirectory()) return { ...result, problem: 'not-a-folder' };
  // Folders still to be created must be creatable: a name over 255 bytes is refused by
  // every common file system, and would only fail once the job starts.
  const toCreate = path.relative(existing, dir).split(path.sep).filter(Boolean);
  if (toCreate.some((segment) => Buffer.byteLength(segment) > 255)) return { ...result, problem: 'name-too-long' };
  if (!(await canWrite(existing))) return { ...result, problem: 'not-writable' };
  result.writable = true;
  try {
    const fsInfo = await statfs(existing);
    // Kernel views (/proc, /sys…) pass an access check as root but hold no files.
    if (virtualFileSystems.has(Number(fsInfo.type))) return { ...result, writable: false, problem: 'not-writable' };
    result.freeBytes = Number(fsInfo.bavail) * Number(fsInfo.bsize);
  } catch {
    result.freeBytes = null;
  }
  if (result.exists) result.interruptedJob = await findJob(dir).catch(() => null);
  return result;
}

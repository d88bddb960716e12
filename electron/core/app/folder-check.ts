// Validates a folder the user typed or picked: absolute, a directory (or creatable), writable,
// and how much space is free on its volume.
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
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

export async function checkFolder(input: string, findJob: (dir: string) => Promise<{ source: string } | null>): Promise<FolderCheck> {
  const expanded = expandFolderPath(input);
  const result: FolderCheck = { path: expanded, exists: false, writable: false, freeBytes: null, neededBytes: null, problem: null, interruptedJob: null };
  if (!expanded) return { ...result, problem: 'empty' };
  if (!path.isAbsolute(expanded)) return { ...result, problem: 'not-absolute' };
  const dir = path.resolve(expanded);
  result.path = dir;
  const existing = await nearestExisting(dir);
  const info = await stat(existing).catch(() => null);
  if (!info) return { ...result, problem: 'missing' };
  result.exists = existing === dir;
  if (!info.isDirectory()) return { ...result, problem: 'not-a-folder' };
  try {
    await access(existing, constants.W_OK);
    result.writable = true;
  } catch {
    return { ...result, problem: 'not-writable' };
  }
  try {
    const fsInfo = await statfs(existing);
    result.freeBytes = Number(fsInfo.bavail) * Number(fsInfo.bsize);
  } catch {
    result.freeBytes = null;
  }
  if (result.exists) result.interruptedJob = await findJob(dir).catch(() => null);
  return result;
}

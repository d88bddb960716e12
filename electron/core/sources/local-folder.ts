// A local or mounted folder (HeyGem users often map the server's data drive). Files are
// read in place when downloading; nothing is copied to staging first.
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ReelpackError } from '../errors.ts';
import type { ListOptions, ResultItem, SkippedItem } from './source-types.ts';

/** The folder Reelpack keeps its job state in; never listed as a result. */
export const stateFolderName = '.reelpack';

// What operating systems leave in folders they look at or mount, never a result: Finder's
// .DS_Store and the "._name" companion of every file on exFAT/FAT/SMB volumes, Explorer's
// Thumbs.db and desktop.ini, and a drive root's recycle bin and system folders (which would
// otherwise bring the user's deleted files into the archive).
const systemNames = new Set(['.ds_store', 'thumbs.db', 'ehthumbs.db', 'desktop.ini', '$recycle.bin', 'system volume information', '.trashes', '.spotlight-v100', '.fseventsd', '.temporaryitems', '.trash']);

function isSystemEntry(name: string): boolean {
  return systemNames.has(name.toLowerCase()) || name.startsWith('._');
}

export async function listLocalFolder(root: string, depth: number, options: Pick<ListOptions, 'onProgress' | 'signal'> = {}): Promise<{ items: ResultItem[]; skipped: SkippedItem[] }> {
  const items: ResultItem[] = [];
  const skipped: SkippedItem[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (dir === root) throw new ReelpackError('SOURCE_UNUSABLE', `cannot read folder ${root}: ${(error as Error).message}`);
      skipped.push({ name: relative(root, dir), reason: `unreadable: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split(sep).join('/');
      if (entry.name === stateFolderName || entry.name.endsWith('.part') || isSystemEntry(entry.name)) continue;
      if (entry.isDirectory()) {
        if (level < depth) await walk(path, level + 1);
        else skipped.push({ name: rel, reason: `folder deeper than --depth ${depth}` });
      } else if (entry.isFile()) {
        // A file that went away since readdir (a generator's temporary file) is not a result;
        // one that cannot be looked at is listed as skipped, with why.
        const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') skipped.push({ name: rel, reason: `unreadable: ${error.code ?? 'error'}` });
          return null;
        });
        if (!info) continue;
        items.push({ id: rel, name: rel, url: path, size: info.size, createdAt: info.mtime.toISOString() });
        if (items.length % 500 === 0) {
          options.signal?.throwIfAborted();
          options.onProgress?.({ found: items.length });
        }
      } else if (entry.isSymbolicLink()) {
        skipped.push({ name: rel, reason: 'symbolic link (not followed)' });
      }
    }
  };
  await walk(root, 0);
  return { items, skipped };
}

// A rename that never replaces an existing file: the archive's final name and loose files
// both use it, so nothing a user (or another program) put there is ever overwritten.
import fs from 'node:fs/promises';
import { retryWhileLocked } from './fs-retry.ts';

/**
 * Renames `from` to `to` unless `to` exists; false when it does (nothing moved). A hard link
 * fails atomically on an existing target. Where a link cannot be made, whatever the error
 * says (FAT and exFAT answer EPERM, ENOTSUP or, on Windows, EISDIR; SMB shares others), it
 * falls back to check-then-rename, which a file created in between could still lose to.
 * `link` is a parameter for the tests (a file system without hard links cannot be made here).
 */
export async function renameNoOverwrite(from: string, to: string, link: (from: string, to: string) => Promise<void> = fs.link): Promise<boolean> {
  let linked = false;
  try {
    await link(from, to);
    linked = true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT' || !code) throw error; // the file to move is gone: no fallback helps
  }
  if (linked) {
    // The file is in place under its new name; an old name that cannot be removed now (held
    // open by an antivirus scanner on Windows) is a leftover, not a failed move.
    await fs.unlink(from).catch(() => {});
    return true;
  }
  if (await fs.stat(to).then(() => true, () => false)) return false;
  await retryWhileLocked(() => fs.rename(from, to));
  return true;
}

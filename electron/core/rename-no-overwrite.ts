// A rename that never replaces an existing file: the archive's final name and loose files
// both use it, so nothing a user (or another program) put there is ever overwritten.
import fs from 'node:fs/promises';

const noHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Renames `from` to `to` unless `to` exists; false when it does (nothing moved). A hard link
 * fails atomically on an existing target; file systems without hard links (FAT, exFAT) fall
 * back to check-then-rename, which a file created in between could still lose to.
 */
export async function renameNoOverwrite(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    await fs.unlink(from);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!code || !noHardLinks.has(code)) throw error;
  }
  if (await fs.stat(to).then(() => true, () => false)) return false;
  await fs.rename(from, to);
  return true;
}

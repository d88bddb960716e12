// A small tmpfs for tests that need a full or nearly full disk (Linux, root only).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a tmpfs cannot be mounted here, or null when it can: pass it as a test's `skip`. */
export function cannotMountTmpfs(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root: cannot mount a tmpfs';
  const probe = join(tmpdir(), `reelpack-tmpfs-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe]);
    return null;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`;
  } finally {
    execFileSync('rmdir', [probe]);
  }
}

/** Runs `fn` with a tmpfs of `sizeMiB` mounted at `mount`; unmounts and removes it whatever happens. */
export async function withTmpfs(sizeMiB: number, fn: (mount: string, resize: (mib: number) => void) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'reelpack-disk-'));
  const mount = join(base, 'mnt');
  await mkdir(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', mount]);
  try {
    await fn(mount, (mib) => execFileSync('mount', ['-o', `remount,size=${mib}m`, mount]));
  } finally {
    execFileSync('umount', ['-l', mount]);
    await rm(base, { recursive: true, force: true });
  }
}

// One reelpack run per destination: a lock file with the owner's pid. A lock whose owner
// is gone (crash, kill -9) is taken over.
import { hostname } from 'node:os';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ReelpackError } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireJobLock(stateDir: string, outDir: string): Promise<() => Promise<void>> {
  const path = join(stateDir, 'lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      await file.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner: { pid?: number; host?: string } = {};
    try {
      owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
    } catch {
      // unreadable: a crash between create and write; treat as stale
    }
    if (owner.pid && owner.host === hostname() && owner.pid !== process.pid && alive(owner.pid)) {
      throw new ReelpackError('LOCKED', `another reelpack (pid ${owner.pid}) is already working in ${outDir}; wait for it or stop it first`);
    }
    if (owner.pid && owner.host && owner.host !== hostname()) {
      throw new ReelpackError('LOCKED', `${outDir} is in use by reelpack on ${owner.host} (pid ${owner.pid}); delete ${path} if that run is gone`);
    }
    await unlink(path).catch(() => {});
  }
  throw new ReelpackError('LOCKED', `could not lock ${outDir}`);
}

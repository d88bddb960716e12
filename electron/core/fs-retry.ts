// Windows: an antivirus scanner, the search indexer or Explorer's preview holds a just-written
// file open for a moment, and a rename or delete of it then fails with EPERM, EACCES or EBUSY.
// graceful-fs (npm's) retries these for the same reason; so does this, for up to ~5 s.
// Elsewhere those errors are real, and are thrown at once.
import { setTimeout as sleep } from 'node:timers/promises';

const lockedCodes = new Set(['EPERM', 'EACCES', 'EBUSY']);
const defaultDelaysMs = [50, 100, 200, 400, 800, 1600, 2000];

export async function retryWhileLocked<T>(operation: () => Promise<T>, platform: NodeJS.Platform = process.platform, delaysMs: readonly number[] = defaultDelaysMs): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (platform !== 'win32' || code === undefined || !lockedCodes.has(code) || attempt >= delaysMs.length) throw error;
      await sleep(delaysMs[attempt]);
    }
  }
}

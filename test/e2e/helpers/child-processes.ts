// Zip workers this test process forked (Linux /proc), to catch workers a job leaves behind.
import { readdirSync, readFileSync } from 'node:fs';

export function zipWorkerChildren(parent = process.pid): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return found; // no /proc (macOS, Windows): nothing to check
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('zip-worker')) found.push(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

// --mode folder: each verified file is moved from staging to <out>/<safe path>.
// An existing different file is never overwritten: the new one gets " (2)".
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withSuffix } from '../names/safe-path.ts';
import { renameNoOverwrite } from '../rename-no-overwrite.ts';
import type { OutputFile } from './job-events.ts';
import type { VerifiedFile } from './output-sink.ts';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Moves a staged file into place; returns its path relative to outDir. */
export async function placeLooseFile(outDir: string, file: VerifiedFile): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const relative = n === 1 ? file.safePath : withSuffix(file.safePath, n);
    const target = join(outDir, relative);
    const existing = await stat(target).catch(() => null);
    if (existing) {
      // The same bytes already there (an earlier run): use it; the staged copy goes with the job's state.
      if (existing.isFile() && existing.size === file.size && (await sha256Of(target)) === file.sha256) return relative;
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    if (!(await renameNoOverwrite(file.path, target))) continue; // another program took the name meanwhile
    const seconds = file.mtimeMs / 1000;
    await utimes(target, seconds, seconds).catch(() => {});
    return relative;
  }
  throw new Error(`no free name for ${file.safePath}`);
}

export function looseOutput(outDir: string, relative: string, file: { size: number; sha256: string }): OutputFile {
  return { path: join(outDir, relative), size: file.size, sha256: file.sha256 };
}

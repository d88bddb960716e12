// --mode folder: each verified file is moved from staging to <out>/<safe path>.
// An existing different file is never overwritten: the new one gets " (2)".
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { folderWithSuffix, withSuffix } from '../names/safe-path.ts';
import { renameNoOverwrite } from '../rename-no-overwrite.ts';
import type { OutputFile } from './job-events.ts';
import type { VerifiedFile } from './output-sink.ts';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `relative` with each of its folders that a file already holds the name of in outDir (a file
 * "sub" where the listing has a folder "sub/") renamed " (2)", " (3)"… as names are: every
 * file of that folder lands in the same "sub (2)".
 */
async function besideFilesInTheWay(outDir: string, relative: string): Promise<string> {
  const segments = relative.split('/');
  for (let i = 0; i < segments.length - 1; i++) {
    const original = segments[i]!;
    for (let n = 2; n < 10_000; n++) {
      const info = await stat(join(outDir, ...segments.slice(0, i + 1))).catch(() => null);
      if (!info || info.isDirectory()) break;
      segments[i] = folderWithSuffix(original, n);
    }
  }
  return segments.join('/');
}

/** Moves a staged file into place; returns its path relative to outDir. */
export async function placeLooseFile(outDir: string, file: VerifiedFile): Promise<string> {
  let safePath = file.safePath;
  for (let n = 1; n < 10_000; n++) {
    const relative = n === 1 ? safePath : withSuffix(safePath, n);
    const target = join(outDir, relative);
    const existing = await stat(target).catch(() => null);
    if (existing) {
      // The same bytes already there (an earlier run): use it; the staged copy goes with the job's
      // state. One that cannot be read is someone else's: this file takes the next name.
      if (existing.isFile() && existing.size === file.size && (await sha256Of(target).catch(() => null)) === file.sha256) return relative;
      continue;
    }
    const refused = await mkdir(dirname(target), { recursive: true }).then(() => null, (error: NodeJS.ErrnoException) => error);
    if (refused) {
      // A file has the name of one of its folders: the folder gets a number instead.
      const moved = refused.code === 'EEXIST' || refused.code === 'ENOTDIR' ? await besideFilesInTheWay(outDir, safePath) : safePath;
      if (moved === safePath) throw refused;
      safePath = moved;
      n = 0;
      continue;
    }
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

// Archive file names: the default name, volume names, a free name that never overwrites
// an existing file (" (2)" suffix), and a rename that refuses to replace anything.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ReelpackError } from '../errors.ts';
import { renameNoOverwrite } from '../rename-no-overwrite.ts';
import { hasCompressedExtension } from './compression-policy.ts';

const pad = (n: number): string => String(n).padStart(2, '0');

/** `{host}_results_{yyyyMMdd_HHmm}` (no extension): host from the URL, folder name for local sources. */
export function defaultArchiveBase(source: { url: string; kind: string }, now = new Date()): string {
  let host = '';
  if (source.kind === 'folder') {
    host = path.basename(source.url.replace(/[\\/]+$/, ''));
    // A single video given as the source: "take 7_results_…", not "take 7.mp4_results_…"
    // (a folder whose name has a dot, "batch.2024", keeps it).
    if (hasCompressedExtension(host)) host = host.slice(0, host.lastIndexOf('.'));
  } else {
    try {
      host = new URL(source.url).hostname;
    } catch {
      // A local URL list: "urls_results_…", not "urls.txt_results_…".
      host = path.basename(source.url).replace(/\.[^.]*$/, '');
    }
  }
  host = host.replace(/^\[|\]$/g, '').replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '') || 'reelpack';
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}_${pad(now.getHours())}${pad(now.getMinutes())}`;
  return `${host}_results_${stamp}`;
}

/** Splits a --zip value (name or path, ".zip" optional) into the folder and the base name. */
export function splitArchivePath(outDir: string, zipName: string): { dir: string; base: string } {
  const full = path.resolve(outDir, zipName);
  return { dir: path.dirname(full), base: path.basename(full).replace(/\.zip$/i, '') };
}

/** `<base>.zip` for a single archive, `<base>.part<N>.zip` for volume N. */
export function archiveFileName(base: string, volume: number | null): string {
  return volume === null ? `${base}.zip` : `${base}.part${volume}.zip`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `candidate` is `base` or a free name chooseFreeBase made from it (`base (2)`…). */
export function isBaseOrNumbered(candidate: string, base: string): boolean {
  return candidate === base || new RegExp(`^${escapeRegExp(base)} \\(\\d+\\)$`).test(candidate);
}

/** True when `dir` holds anything that belongs to an archive (set) named `base`. */
function baseIsTaken(names: readonly string[], base: string): boolean {
  const own = new RegExp(`^${escapeRegExp(base)}(\\.part\\d+)?\\.zip(\\.part)?$`, 'i');
  return names.some((name) => own.test(name));
}

/** `base`, else `base (2)`, `base (3)`…: the first base no existing file in `dir` (nor `refused`) belongs to. */
export async function chooseFreeBase(dir: string, base: string, refused: ReadonlySet<string> = new Set()): Promise<string> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const free = (candidate: string) => !refused.has(candidate) && !baseIsTaken(names, candidate);
  if (free(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (free(candidate)) return candidate;
  }
}

/**
 * A free base, claimed for this job by creating its first archive's ".zip.part" (empty; the zip
 * worker writes it later). Two runs given the same --zip path (from different folders) then
 * cannot both choose the same name while neither has started writing.
 */
export async function claimFreeBase(dir: string, base: string, firstVolume: number | null): Promise<string> {
  const refused = new Set<string>();
  for (;;) {
    const candidate = await chooseFreeBase(dir, base, refused);
    try {
      await (await fs.open(path.join(dir, `${archiveFileName(candidate, firstVolume)}.part`), 'wx')).close();
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      refused.add(candidate); // claimed by another run since the folder was read
    }
  }
}

/**
 * `<base>.part<N> (2).zip`, `(3)`…: a free name for volume N when another file took its own
 * since the set was named. The set stays one set: the manifests name each volume by its file name.
 */
export async function freeVolumeName(dir: string, base: string, volume: number): Promise<string> {
  const names = new Set((await fs.readdir(dir).catch(() => [] as string[])).map((name) => name.toLowerCase()));
  for (let n = 2; ; n++) {
    const candidate = `${base}.part${volume} (${n}).zip`;
    if (!names.has(candidate.toLowerCase()) && !names.has(`${candidate}.part`.toLowerCase())) return candidate;
  }
}

/** The longest name freeVolumeName gives in practice: what a volume's manifest is planned with. */
export function longestVolumeName(fileName: string): string {
  return fileName.replace(/\.zip$/, ' (99).zip');
}

/** Deletes the unfinished parts ("<base>.zip.part", "<base>.partN.zip.part") in `dir`; a folder that is gone (an unplugged drive) holds none. */
export async function removeArchiveParts(dir: string, base: string): Promise<void> {
  const prefix = `${base}.`;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix) && /^(part\d+\.)?zip\.part$/.test(name.slice(prefix.length))) await fs.rm(path.join(dir, name), { force: true });
  }
}

/**
 * Keeps an archive's name this job's while it is stopped: an empty part at `partPath` (another
 * run given the same --zip then takes " (2)", and cannot have its part deleted as this job's
 * stale one when this job resumes). Deleted with the job (discardJob), or written over on resume.
 */
export async function holdArchiveName(partPath: string): Promise<void> {
  const file = await fs.open(partPath, 'a').catch(() => null);
  if (!file) return;
  await file.truncate(0).catch(() => {});
  await file.close();
}

/** Gives a finished archive its final name; refuses (ZIP_FAILED) to replace anything there. */
export async function renameArchive(from: string, to: string): Promise<void> {
  if (!(await renameNoOverwrite(from, to))) throw new ReelpackError('ZIP_FAILED', `archive name already taken: ${to}`);
}

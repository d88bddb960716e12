// Reading archives back. `verifyWrittenArchive` runs before every rename from ".zip.part": the
// central directory must list exactly what was written, and every entry's data must match its
// size and CRC-32. `verifyArchive` is `reelpack verify`: every entry against manifest.json
// (size, CRC-32, SHA-256) and SHA256SUMS, for any archive Reelpack wrote.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { ReelpackError } from '../errors.ts';
import { checksumsName, crc32Hex, manifestName, parseManifest } from './manifest.ts';
import type { Manifest } from './manifest.ts';
import type { CheckedEntry } from './read-behind-check.ts';
import { readCentralDirectory, readEntryData } from './zip-reader.ts';
import type { CentralEntry } from './zip-reader.ts';

export interface ArchiveCheck {
  ok: boolean;
  entries: number;
  problems: string[];
}

export interface ExpectedEntry {
  name: string;
  size: number;
  crc32: number;
}

interface ScannedEntry {
  entry: CentralEntry;
  size: number;
  crc32: number;
  sha256?: string;
  text?: string;
}

const maxMetadataBytes = 256 * 1024 * 1024;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads every entry's data once: size and CRC-32, SHA-256 if asked, text of the two metadata entries. */
async function scanEntry(fh: fs.FileHandle, entry: CentralEntry, withSha256: boolean): Promise<ScannedEntry> {
  let crc = 0;
  let size = 0;
  const hash = withSha256 ? createHash('sha256') : null;
  const keepText = withSha256 && (entry.name === manifestName || entry.name === checksumsName) && entry.size <= maxMetadataBytes;
  const parts: Buffer[] = [];
  await readEntryData(fh, entry, (chunk) => {
    crc = zlib.crc32(chunk, crc);
    size += chunk.length;
    hash?.update(chunk);
    if (keepText) parts.push(Buffer.from(chunk)); // chunks are reused buffers
  });
  const scanned: ScannedEntry = { entry, size, crc32: crc };
  if (hash) scanned.sha256 = hash.digest('hex');
  if (keepText) scanned.text = Buffer.concat(parts).toString('utf8');
  return scanned;
}

function dataProblem(scanned: ScannedEntry): string | null {
  const { entry } = scanned;
  if (scanned.size !== entry.size) return `size mismatch: ${entry.name} (directory says ${entry.size}, data has ${scanned.size})`;
  if (scanned.crc32 !== entry.crc32) return `CRC-32 mismatch: ${entry.name} (directory says ${crc32Hex(entry.crc32)}, data is ${crc32Hex(scanned.crc32)})`;
  return null;
}

function unsafeName(name: string): boolean {
  return name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\\') || /[\u0000-\u001f]/.test(name) || name.split('/').includes('..');
}

/**
 * Read-back check of an archive just written; throws VERIFY_FAILED naming the first problem.
 * `alreadyChecked`: entries whose data was read back and CRC'd while writing (by index); they
 * are not read again when the central directory puts them at the same offset, size and CRC-32.
 */
export async function verifyWrittenArchive(
  archivePath: string, expected: readonly ExpectedEntry[], expectedLength: number, alreadyChecked?: ReadonlyMap<number, CheckedEntry>,
): Promise<void> {
  const fail = (problem: string): never => {
    throw new ReelpackError('VERIFY_FAILED', `archive check failed: ${problem} in ${archivePath}`);
  };
  const fh = await fs.open(archivePath, 'r');
  try {
    const { size } = await fh.stat();
    if (size !== expectedLength) fail(`file is ${size} bytes, ${expectedLength} were written`);
    const directory = await readCentralDirectory(fh, size).catch((error: unknown) => fail(message(error)));
    if (directory.entries.length !== expected.length) fail(`${directory.entries.length} entries listed, ${expected.length} written`);
    for (const [i, entry] of directory.entries.entries()) {
      const want = expected[i]!;
      if (entry.name !== want.name) fail(`entry ${i} is ${JSON.stringify(entry.name)}, expected ${JSON.stringify(want.name)}`);
      if (entry.size !== want.size || entry.crc32 !== want.crc32) fail(`directory record differs from what was written: ${want.name}`);
      const checked = alreadyChecked?.get(i);
      const stored = entry.method === 0 && entry.compressedSize === entry.size;
      if (stored && checked?.localHeaderOffset === entry.localHeaderOffset && checked.size === entry.size && checked.crc32 === entry.crc32) continue;
      const scanned = await scanEntry(fh, entry, false).catch((error: unknown) => fail(`${entry.name}: ${message(error)}`));
      const problem = dataProblem(scanned);
      if (problem) fail(problem);
    }
  } finally {
    await fh.close();
  }
}

/** Checks an archive against its own manifest.json and SHA256SUMS. Never throws for a bad archive. */
export async function verifyArchive(archivePath: string): Promise<ArchiveCheck> {
  const problems: string[] = [];
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(archivePath, 'r');
  } catch (error) {
    return { ok: false, entries: 0, problems: [`cannot open: ${message(error)}`] };
  }
  try {
    const directory = await readCentralDirectory(fh, (await fh.stat()).size);
    const byName = new Map<string, ScannedEntry>();
    /** Entries present but unreadable: reported once as such, not again as missing. */
    const unreadable = new Set<string>();
    for (const entry of directory.entries) {
      if (unsafeName(entry.name)) problems.push(`unsafe entry name: ${JSON.stringify(entry.name)}`);
      if (byName.has(entry.name)) problems.push(`duplicate entry: ${entry.name}`);
      try {
        const scanned = await scanEntry(fh, entry, true);
        const problem = dataProblem(scanned);
        if (problem) problems.push(problem);
        byName.set(entry.name, scanned);
      } catch (error) {
        problems.push(`unreadable entry: ${entry.name}: ${message(error)}`);
        unreadable.add(entry.name);
      }
    }
    const manifest = checkAgainstManifest(byName, unreadable, problems);
    if (manifest) await checkVolumeSet(archivePath, manifest, problems);
    return { ok: problems.length === 0, entries: directory.entries.length, problems };
  } catch (error) {
    problems.push(`unreadable archive: ${message(error)}`);
    return { ok: false, entries: 0, problems };
  } finally {
    await fh.close();
  }
}

/**
 * The last volume of a set names every volume with its size: each must be beside it. (Their
 * contents are checked by verifying them too: `reelpack verify set.part*.zip`.)
 */
async function checkVolumeSet(archivePath: string, manifest: Manifest, problems: string[]): Promise<void> {
  if (!manifest.archive.complete || manifest.archive.volume === null) return;
  for (const volume of manifest.volumes) {
    if (volume.name === manifest.archive.name || volume.size === undefined) continue;
    const size = await fs.stat(path.join(path.dirname(archivePath), volume.name)).then((s) => s.size, () => null);
    if (size === null) problems.push(`volume of this set missing beside it: ${volume.name}`);
    else if (size !== volume.size) problems.push(`volume of this set has another size than the manifest says: ${volume.name} (${size} != ${volume.size})`);
  }
}

/** Checks the entries against manifest.json and SHA256SUMS; returns the manifest if it could be read. */
function checkAgainstManifest(byName: Map<string, ScannedEntry>, unreadable: ReadonlySet<string>, problems: string[]): Manifest | null {
  const manifestText = byName.get(manifestName)?.text;
  if (manifestText === undefined) {
    if (!unreadable.has(manifestName)) problems.push(`no ${manifestName} in the archive`);
    return null;
  }
  let listed: Set<string>;
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestText);
    listed = new Set(manifest.files.map((file) => file.path));
    for (const file of manifest.files) {
      const scanned = byName.get(file.path);
      if (!scanned) {
        if (!unreadable.has(file.path)) problems.push(`missing from the archive: ${file.path}`);
        continue;
      }
      if (scanned.size !== file.size) problems.push(`size differs from manifest: ${file.path} (${scanned.size} != ${file.size})`);
      if (crc32Hex(scanned.crc32) !== file.crc32) problems.push(`CRC-32 differs from manifest: ${file.path}`);
      if (scanned.sha256 !== file.sha256) problems.push(`SHA-256 differs from manifest: ${file.path}`);
    }
  } catch (error) {
    problems.push(`bad ${manifestName}: ${message(error)}`);
    return null;
  }
  for (const name of byName.keys()) {
    if (name !== manifestName && name !== checksumsName && !listed.has(name)) problems.push(`entry not in manifest: ${name}`);
  }
  const sums = byName.get(checksumsName)?.text;
  if (sums === undefined) {
    if (!unreadable.has(checksumsName)) problems.push(`no ${checksumsName} in the archive`);
    return manifest;
  }
  const summed = new Set<string>();
  for (const line of sums.split('\n')) {
    if (line === '') continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) {
      problems.push(`bad ${checksumsName} line: ${JSON.stringify(line)}`);
      continue;
    }
    summed.add(match[2]!);
    const scanned = byName.get(match[2]!);
    if (!scanned) {
      if (!listed.has(match[2]!)) problems.push(`in ${checksumsName} but not in the archive: ${match[2]}`); // else reported as missing above
    } else if (scanned.sha256 !== match[1]) problems.push(`SHA-256 differs from ${checksumsName}: ${match[2]}`);
  }
  for (const name of listed) if (!summed.has(name)) problems.push(`missing from ${checksumsName}: ${name}`);
  return manifest;
}

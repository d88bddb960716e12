// manifest.json and SHA256SUMS, the two entries that close every archive.
//
// How a manifest names the whole set (volumes are planned as files arrive, and a volume is
// finished — renamed, recorded, its staged files released — before later files even exist):
// every manifest lists the volumes known when it was written: all earlier volumes (with their
// size and SHA-256) and itself. The last volume, written by finish(), is the only one with
// `complete: true`; it therefore names every volume of the set and carries the `failed` list.
// An earlier volume says `complete: false`: "this set has at least these volumes".
//
// Layout: a pretty-printed header, then one file record per line, so the manifest's size is a
// sum of per-file line lengths (the volume planner reserves room for it as files arrive).
import type { FailedFile } from '../jobs/job-events.ts';
import type { VerifiedFile } from '../jobs/output-sink.ts';

export const manifestName = 'manifest.json';
export const checksumsName = 'SHA256SUMS';
export const manifestFormat = 'reelpack-manifest';
export const manifestVersion = 1;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** CRC-32 of the entry's bytes, 8 lower-case hex digits (what ZIP tools show). */
  crc32: string;
  sourceUrl: string;
  id: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  createdAt?: string | undefined;
  params?: unknown;
}

export interface ManifestVolume {
  name: string;
  files: number;
  bytes: number;
  /** Archive size and SHA-256; absent for the volume holding this manifest. */
  size?: number | undefined;
  sha256?: string | undefined;
}

export interface ManifestHeader {
  format: typeof manifestFormat;
  version: typeof manifestVersion;
  createdAt: string;
  generator: string;
  source: { url: string; kind: string };
  archive: { name: string; volume: number | null; complete: boolean };
  volumes: ManifestVolume[];
  failed?: FailedFile[] | undefined;
}

export interface Manifest extends ManifestHeader {
  files: ManifestFile[];
}

export function crc32Hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

export function manifestFileRecord(file: VerifiedFile, crc32: number): ManifestFile {
  const record: ManifestFile = {
    path: file.safePath,
    size: file.size,
    sha256: file.sha256,
    crc32: crc32Hex(crc32),
    sourceUrl: file.sourceUrl,
    id: file.id,
  };
  if (file.etag !== undefined) record.etag = file.etag;
  if (file.lastModified !== undefined) record.lastModified = file.lastModified;
  if (file.createdAt !== undefined) record.createdAt = file.createdAt;
  if (file.params !== undefined) record.params = file.params;
  return record;
}

/** One line of the manifest's file list. */
export function fileLine(record: ManifestFile): string {
  return JSON.stringify(record);
}

/** Bytes a file line adds to the manifest: indent, the line, ",\n". */
export function fileLineCost(line: string): number {
  return 4 + Buffer.byteLength(line) + 2;
}

export function serializeManifest(header: ManifestHeader, lines: readonly string[]): string {
  const head = JSON.stringify({ ...header, files: [] }, null, 2);
  const open = head.slice(0, -'[]\n}'.length);
  if (lines.length === 0) return `${head}\n`;
  return `${open}[\n${lines.map((line) => `    ${line}`).join(',\n')}\n  ]\n}\n`;
}

/** `sha256sum -c` format: hash, two spaces, path. Safe paths hold no newline or backslash. */
export function checksumsLine(sha256: string, entryPath: string): string {
  return `${sha256}  ${entryPath}\n`;
}

export function parseManifest(text: string): Manifest {
  const value = JSON.parse(text) as Manifest;
  if (!value || value.format !== manifestFormat || !Array.isArray(value.files)) {
    throw new Error(`not a ${manifestFormat}`);
  }
  return value;
}

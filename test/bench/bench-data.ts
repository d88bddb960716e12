// Generated benchmark data: incompressible files (slices of one random block, each file from a
// different offset and with its first bytes stamped, so no two files are alike) with their
// SHA-256 recorded as the engine's VerifiedFile. Shared by bench.ts and
// test/core/bundle/measure-store-throughput.ts.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { VerifiedFile } from '../../electron/core/jobs/output-sink.ts';

export const MiB = 1024 * 1024;
const blockBytes = 64 * MiB;
let block: Buffer | null = null;

/** Writes `size` incompressible bytes to `dir/name`; returns it as a VerifiedFile (path = the file). */
export async function writeDataFile(dir: string, name: string, size: number, seed = 0): Promise<VerifiedFile> {
  block ??= randomBytes(blockBytes);
  const file = path.join(dir, name);
  const hash = createHash('sha256');
  const fh = await fs.open(file, 'w');
  try {
    let start = (seed * 7919 * 4099) % blockBytes;
    for (let written = 0; written < size; ) {
      const n = Math.min(blockBytes - start, size - written, 16 * MiB);
      const part = Buffer.from(block.subarray(start, start + n)); // a copy: the stamp must not touch the block
      if (n >= 8) {
        part.writeUInt32LE(seed >>> 0, 0);
        part.writeUInt32LE(written >>> 0, 4);
      }
      await fh.write(part, 0, n, written);
      hash.update(part);
      written += n;
      start = (start + n) % blockBytes;
    }
  } finally {
    await fh.close();
  }
  return { id: name, safePath: name, path: file, size, sha256: hash.digest('hex'), sourceUrl: file, mtimeMs: Date.now() };
}

export interface DataSetSpec {
  /** Short key used in flags and JSON: "small", "big", "many". */
  key: string;
  count: number;
  /** Bytes per file. */
  size: number;
  /** File name prefix. */
  prefix: string;
}

export function describeSet(spec: DataSetSpec): string {
  const each = spec.size >= 1024 * MiB ? `${spec.size / (1024 * MiB)} GiB` : spec.size >= MiB ? `${spec.size / MiB} MiB` : `${spec.size / 1024} KiB`;
  return `${spec.count} × ${each}`;
}

/** Writes every file of a data set into `dir` (created). */
export async function writeDataSet(dir: string, spec: DataSetSpec): Promise<VerifiedFile[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: VerifiedFile[] = [];
  const width = String(spec.count - 1).length;
  for (let i = 0; i < spec.count; i++) {
    files.push(await writeDataFile(dir, `${spec.prefix}-${String(i).padStart(width, '0')}.mp4`, spec.size, i + spec.key.length * 1000));
  }
  return files;
}

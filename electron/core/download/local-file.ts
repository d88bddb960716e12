// "Downloading" from a local or mounted folder: hash the file in place, or copy it to
// staging while hashing. A file whose size or mtime moves meanwhile is still being written.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { ReelpackError } from '../errors.ts';
import { writeFully } from './file-writer.ts';
import type { DownloadResult } from './file-download.ts';

export async function readLocalFile(
  sourcePath: string,
  copyTo: string | null,
  options: { expectedSize?: number | undefined; signal?: AbortSignal | undefined; onBytes: (bytes: number) => void },
): Promise<DownloadResult & { mtimeMs: number }> {
  const before = await stat(sourcePath).catch((error: NodeJS.ErrnoException) => {
    throw new ReelpackError(error.code === 'ENOENT' ? 'HTTP_STATUS' : 'NETWORK', `cannot read ${sourcePath}: ${error.code ?? error.message}`, { statusCode: error.code === 'ENOENT' ? 404 : undefined });
  });
  if (options.expectedSize !== undefined && before.size !== options.expectedSize) {
    throw new ReelpackError('STILL_WRITING', `size changed since listing (listed ${options.expectedSize}, now ${before.size}): still being written? ${sourcePath}`);
  }
  const hash = createHash('sha256');
  // One reused 1 MiB buffer: a read stream allocates one per chunk, and collecting them
  // cost 12 % of the time on a 2-core machine.
  const buffer = Buffer.allocUnsafe(readBlockBytes);
  const input = await open(sourcePath, 'r');
  const out = copyTo ? await open(copyTo, 'w') : null;
  let size = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new ReelpackError('CANCELLED', 'cancelled');
      const { bytesRead } = await input.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      if (out) await writeFully(out, chunk, bytesRead, size);
      size += bytesRead;
      options.onBytes(bytesRead);
    }
  } finally {
    await input.close();
    await out?.close();
  }
  const after = await stat(sourcePath);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || size !== before.size) {
    throw new ReelpackError('STILL_WRITING', `file changed while being read: still being written? ${sourcePath}`);
  }
  return { size, sha256: hash.digest('hex'), validator: { lastModified: after.mtime.toUTCString() }, networkBytes: 0, mtimeMs: after.mtimeMs };
}

const readBlockBytes = 1024 * 1024;


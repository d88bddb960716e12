// "Downloading" from a local or mounted folder: hash the file in place, or copy it to
// staging while hashing. A file whose size or mtime moves meanwhile is still being written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ReelpackError } from '../errors.ts';
import { BufferedFileWriter } from './file-writer.ts';
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
  const out = copyTo ? await open(copyTo, 'w') : null;
  const writer = out ? new BufferedFileWriter(out, 0) : null;
  let size = 0;
  try {
    for await (const chunk of createReadStream(sourcePath, { highWaterMark: 1024 * 1024, signal: options.signal })) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      if (writer) await writer.write(buffer);
      size += buffer.length;
      options.onBytes(buffer.length);
    }
    if (writer && out) {
      await writer.flush();
      await out.datasync();
    }
  } finally {
    await out?.close();
  }
  const after = await stat(sourcePath);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || size !== before.size) {
    throw new ReelpackError('STILL_WRITING', `file changed while being read: still being written? ${sourcePath}`);
  }
  return { size, sha256: hash.digest('hex'), validator: { lastModified: after.mtime.toUTCString() }, networkBytes: 0, mtimeMs: after.mtimeMs };
}

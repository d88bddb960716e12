// "Downloading" from a local or mounted folder: hash the file in place, or copy it to
// staging while hashing. A file whose size or mtime moves meanwhile is still being written.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ReelpackError, writeError } from '../errors.ts';
import { releaseBlock, Sha256, takeBlock } from '../sha256-thread.ts';
import { writeFully } from '../file-write.ts';
import { SizeChangedError } from './file-download.ts';
import type { DownloadResult } from './file-download.ts';

/** Source errors that another try would meet again: the path no longer leads to a file. */
const goneCodes = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

/**
 * A source file that cannot be read fails that file, never the job: gone (ENOENT, or its path
 * no longer leads to a file) or not ours to read (EACCES, EPERM) for good, like a 404 or 403;
 * anything else (EIO on a network mount that dropped) is worth another try. (Errors of the
 * staging copy are the destination's: writeError.)
 */
function sourceReadError(sourcePath: string) {
  return (error: NodeJS.ErrnoException): never => {
    const status = goneCodes.has(error.code ?? '') ? 404 : error.code === 'EACCES' || error.code === 'EPERM' ? 403 : undefined;
    throw new ReelpackError(status ? 'HTTP_STATUS' : 'NETWORK', `cannot read ${sourcePath}: ${error.code ?? error.message}`, { statusCode: status, cause: error });
  };
}

export async function readLocalFile(
  sourcePath: string,
  copyTo: string | null,
  options: { expectedSize?: number | undefined; signal?: AbortSignal | undefined; onBytes: (bytes: number) => void },
): Promise<DownloadResult & { mtimeMs: number }> {
  const unreadable = sourceReadError(sourcePath);
  // Non-blocking: a source replaced by a pipe since the listing must not hang the job (and
  // every later Ctrl-C) in open(); it is refused as not a file. Looked at through the open
  // file, so what is checked is what is read.
  const input = await open(sourcePath, constants.O_RDONLY | constants.O_NONBLOCK).catch(unreadable);
  let before;
  try {
    before = await input.stat().catch(unreadable);
    if (!before.isFile()) throw new ReelpackError('HTTP_STATUS', `not a regular file any more: ${sourcePath}`, { statusCode: 403 });
    // With the size it has now: the job runner takes a new size seen twice (a file that settled).
    if (options.expectedSize !== undefined && before.size !== options.expectedSize) throw new SizeChangedError(sourcePath, options.expectedSize, before.size);
  } catch (error) {
    await input.close();
    throw error;
  }
  const out = copyTo ? await open(copyTo, 'w').catch(async (error: unknown) => {
    await input.close();
    throw writeError(error, copyTo);
  }) : null;
  const hash = new Sha256();
  // Two reused 1 MiB blocks (a read stream allocates one per chunk, and collecting them cost
  // 12 % of the time on a 2-core machine): one is read while the other is hashed on the
  // hashing thread (and copied), so reading, hashing and writing overlap. Taken only once both
  // files are open, so a failed open leaks neither them nor a descriptor.
  const blocks = [takeBlock(), takeBlock()];
  const busy: Array<Promise<unknown> | undefined> = [undefined, undefined];
  let size = 0;
  try {
    for (let turn = 0; ; turn ^= 1) {
      if (options.signal?.aborted) throw new ReelpackError('CANCELLED', 'cancelled');
      await busy[turn];
      const block = blocks[turn]!;
      const { bytesRead } = await input.read(block, 0, block.length, size).catch(unreadable);
      if (bytesRead === 0) break;
      busy[turn] = Promise.all([hash.update(block.subarray(0, bytesRead)), out ? writeFully(out, block, bytesRead, size).catch((error: unknown) => {
        throw writeError(error, copyTo!);
      }) : undefined]);
      size += bytesRead;
      options.onBytes(bytesRead);
    }
    await Promise.all(busy);
  } catch (error) {
    await Promise.allSettled(busy);
    hash.dispose();
    throw error;
  } finally {
    blocks.forEach(releaseBlock); // only reached once nothing uses them
    await input.close();
    await out?.close();
  }
  const after = await stat(sourcePath).catch(unreadable);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || size !== before.size) {
    hash.dispose();
    throw new ReelpackError('STILL_WRITING', `file changed while being read: still being written? ${sourcePath}`);
  }
  return { size, sha256: await hash.digest(), validator: { lastModified: after.mtime.toUTCString() }, networkBytes: 0, mtimeMs: after.mtimeMs };
}


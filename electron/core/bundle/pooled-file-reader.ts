// Reads a stored (STORE) entry's source for yazl into reused 1 MiB chunks. fs.createReadStream
// allocates a fresh buffer for every read: zipping 1 GiB was 1 024 new buffers of 1 MiB, each
// page-faulted in and left to the garbage collector (a profile of the zip worker put ~10 % of
// its main thread in GC). A chunk is handed out again only after `releaseChunk`, which the zip
// writer calls from the archive write's callback: until that write completes, yazl and the
// write stream still hold the chunk. DEFLATE sources keep fs.createReadStream: their chunks end
// in zlib, not in the archive's writes, so nobody would release them. So do small files
// (`pooledReadMinBytes`): a 2 KB file would hold a whole chunk until its write completes, and
// the archive stream's 2 MiB buffer counts bytes, not chunks, so on a slow disk hundreds of
// chunks were held at once (a review measured 118–211 MB of buffers for 3000 × 2 KB files with
// 3–20 ms writes, against 17–20 MB before). From 256 KiB on, at most 8 fit in that buffer.
import fs from 'node:fs';
import { Readable } from 'node:stream';

const chunkBytes = 1024 * 1024;
/** Smaller sources are read with fs.createReadStream into buffers of their own size. */
export const pooledReadMinBytes = 256 * 1024;
// Enough for the chunks in flight: one being read, a few in yazl's stream chain and up to the
// archive stream's 2 MiB buffer. More are allocated when needed; only this many are kept.
const pooledChunksMax = 8;
const free: Buffer[] = [];
/** Chunks handed out and not yet released, by their memory (a pushed chunk is a view of it). */
const lent = new WeakMap<ArrayBufferLike, Buffer>();

function lendChunk(): Buffer {
  const chunk = free.pop() ?? Buffer.allocUnsafeSlow(chunkBytes);
  lent.set(chunk.buffer, chunk);
  return chunk;
}

/** A chunk read by a PooledFileReader (or a view of one) is no longer used: it may be read into again. Anything else is ignored. */
export function releaseChunk(view: Uint8Array): void {
  const chunk = lent.get(view.buffer);
  if (!chunk) return;
  lent.delete(view.buffer);
  if (free.length < pooledChunksMax) free.push(chunk);
}

/** A file as a stream of pooled chunks, read front to back until its end. */
export class PooledFileReader extends Readable {
  private readonly path: string;
  private fd: number | null = null;
  private position = 0;
  /** A read is in flight: closing the descriptor waits for it (the number could be reused meanwhile). */
  private reading = false;
  private closeAfterRead: (() => void) | null = null;

  constructor(path: string) {
    super({ highWaterMark: chunkBytes });
    this.path = path;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    fs.open(this.path, 'r', (error, fd) => {
      if (error) return callback(error);
      this.fd = fd;
      callback();
    });
  }

  override _read(): void {
    const chunk = lendChunk();
    this.reading = true;
    fs.read(this.fd!, chunk, 0, chunk.length, this.position, (error, bytesRead) => {
      this.reading = false;
      if (this.closeAfterRead || error || bytesRead === 0) releaseChunk(chunk);
      if (this.closeAfterRead) return this.closeAfterRead();
      if (error) return void this.destroy(error);
      if (bytesRead === 0) return void this.push(null);
      this.position += bytesRead;
      this.push(chunk.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.fd === null) return callback(error);
    const fd = this.fd;
    this.fd = null;
    const close = () => fs.close(fd, (closeError) => callback(error ?? closeError));
    if (this.reading) this.closeAfterRead = close;
    else close();
  }
}

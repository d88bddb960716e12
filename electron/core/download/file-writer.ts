// Writes a stream of chunks to a file in large blocks: network chunks are ~64 KiB, and
// one write per chunk halves throughput on these machines. Two 1 MiB buffers let one
// block be written while the next fills.
import type { FileHandle } from 'node:fs/promises';

export const writeBlockBytes = 1024 * 1024;
const maxBufferAgeMs = 1000;

export class BufferedFileWriter {
  private readonly file: FileHandle;
  private position: number;
  /** End of the bytes whose write has completed (in the page cache: they survive kill -9). */
  writtenUpTo: number;
  private current: Buffer = Buffer.allocUnsafe(writeBlockBytes);
  private spare: Buffer | null = Buffer.allocUnsafe(writeBlockBytes);
  private used = 0;
  private pending: Promise<void> | null = null;
  private readonly gate: Promise<void>;
  private lastFlushAt = Date.now();

  /** `gate`: nothing reaches the file before it resolves (the journal must know the validator first). */
  constructor(file: FileHandle, position: number, gate: Promise<void> = Promise.resolve()) {
    this.file = file;
    this.position = position;
    this.writtenUpTo = position;
    this.gate = gate;
    gate.catch(() => {});
  }

  /**
   * Copies `chunk` in; the caller must not write again until a returned promise settles. Returns undefined when the caller may go on at once, or a promise
   * when it must wait (a full block is queued behind the one being written).
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.used === writeBlockBytes) {
        if (this.pending) {
          const rest = chunk.subarray(offset);
          return this.pending.then(() => this.write(rest));
        }
        this.startFlush();
      }
      const n = Math.min(chunk.length - offset, writeBlockBytes - this.used);
      this.current.set(chunk.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
    // On a slow link a block takes long to fill; write what we have every second so a
    // crash loses at most a second of data, not a whole block.
    if (!this.pending && (this.used === writeBlockBytes || Date.now() - this.lastFlushAt > maxBufferAgeMs)) this.startFlush();
    return undefined;
  }

  /** Writes everything buffered and waits for it. */
  async flush(): Promise<void> {
    await this.gate;
    await this.pending;
    if (this.used > 0) this.startFlush();
    await this.pending;
  }

  private startFlush(): void {
    this.lastFlushAt = Date.now();
    const block = this.current;
    const length = this.used;
    const position = this.position;
    this.position += length;
    this.current = this.spare ?? Buffer.allocUnsafe(writeBlockBytes);
    this.spare = null;
    this.used = 0;
    const pending = this.gate.then(() => writeFully(this.file, block, length, position)).then(() => {
      this.spare = block;
      this.writtenUpTo = position + length;
      if (this.pending === pending) this.pending = null;
    });
    this.pending = pending;
    // A write error (ENOSPC…) surfaces from the next write()/flush(), not as an unhandled rejection.
    pending.catch(() => {});
  }
}

/** Writes `length` bytes of `block` at `position`, however many calls it takes. */
export async function writeFully(file: FileHandle, block: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await file.write(block, written, length - written, position + written);
    written += bytesWritten;
  }
}

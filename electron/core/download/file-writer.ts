// Writes a stream of chunks to a file in large blocks: network chunks are ~64 KiB, and
// one write per chunk halves throughput on these machines. Up to `blocksInFlight` 1 MiB
// blocks are queued behind each other: with only two, the socket was paused after almost
// every block (248 pauses for 256 MiB) while a write waited for a free thread-pool thread
// on a busy 2-core machine; four absorb that jitter (measured in the README, Performance).
// With a `hashBlock`, each block is offered for hashing on the hashing thread while it is
// written: the bytes are hashed from the block itself, and the block is reused after both.
// With a `syncBehind`, completed writes are flushed to the disk in the background.
import type { FileHandle } from 'node:fs/promises';
import { writeFully } from '../file-write.ts';
import type { SyncBehind } from '../fs-sync.ts';
import { blockBytes, copyIntoBlock, releaseBlock, takeBlock } from '../sha256-thread.ts';

/** Hashes `block` (file bytes at `position`) and resolves when it may be reused; undefined if it was not taken. */
export type BlockHasher = (block: Buffer, position: number) => Promise<void> | undefined;

export const writeBlockBytes = blockBytes;
const blocksInFlight = 4;
const maxBufferAgeMs = 1000;

export class BufferedFileWriter {
  private readonly file: FileHandle;
  private position: number;
  /** End of the bytes whose write has completed (in the page cache: they survive kill -9). */
  writtenUpTo: number;
  private readonly hashBlock: BlockHasher | undefined;
  private readonly syncBehind: SyncBehind | undefined;
  private current: Buffer = takeBlock();
  private used = 0;
  private readonly free: Buffer[] = [];
  /** Writes queued or running, oldest first; each starts after the one before it. */
  private readonly inFlight: Promise<void>[] = [];
  private tail: Promise<void>;
  private lastFlushAt = Date.now();

  /** `gate`: nothing reaches the file before it resolves (the journal must know the validator first). */
  constructor(file: FileHandle, position: number, options: { gate?: Promise<void>; hashBlock?: BlockHasher; syncBehind?: SyncBehind } = {}) {
    const gate = options.gate ?? Promise.resolve();
    this.file = file;
    this.hashBlock = options.hashBlock;
    this.syncBehind = options.syncBehind;
    this.position = position;
    this.writtenUpTo = position;
    this.tail = gate;
    gate.catch(() => {});
  }

  /**
   * Copies `chunk` in; the caller must not write again until a returned promise settles.
   * Returns undefined when the caller may go on at once, or a promise when it must wait
   * (every block is queued for writing).
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.used === writeBlockBytes) {
        if (this.inFlight.length >= blocksInFlight) {
          const rest = chunk.subarray(offset);
          return this.inFlight[0]!.then(() => this.write(rest));
        }
        this.startFlush();
      }
      const n = Math.min(chunk.length - offset, writeBlockBytes - this.used);
      copyIntoBlock(this.current, chunk.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
    // On a slow link a block takes long to fill; write what we have every second so a
    // crash loses at most a second of data, not a whole block.
    const full = this.used === writeBlockBytes && this.inFlight.length < blocksInFlight;
    if (full || (this.inFlight.length === 0 && Date.now() - this.lastFlushAt > maxBufferAgeMs)) this.startFlush();
    return undefined;
  }

  /** End of the bytes accepted so far (buffered or written). */
  get acceptedUpTo(): number {
    return this.position + this.used;
  }

  /** Writes (and hashes) everything buffered and waits for it. */
  async flush(): Promise<void> {
    if (this.used > 0) this.startFlush();
    await this.tail;
    await Promise.all(this.inFlight);
  }

  /** Gives the blocks back once nothing is in flight; the writer cannot be used afterwards. */
  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    this.free.forEach(releaseBlock);
    this.free.length = 0;
    releaseBlock(this.current);
    this.used = 0;
  }

  private startFlush(): void {
    this.lastFlushAt = Date.now();
    const block = this.current;
    const length = this.used;
    const position = this.position;
    this.position += length;
    this.current = this.free.pop() ?? takeBlock();
    this.used = 0;
    // Chained, not parallel: writtenUpTo only ever covers a contiguous prefix, and a failed
    // write (ENOSPC…) fails every write queued behind it.
    const write = this.tail.then(() => writeFully(this.file, block, length, position)).then(() => {
      this.writtenUpTo = position + length;
      this.syncBehind?.wrote(length);
    });
    const hashed = this.hashBlock?.(block.subarray(0, length), position);
    const done = Promise.all([write, hashed])
      .then(() => void this.free.push(block))
      .finally(() => void this.inFlight.splice(this.inFlight.indexOf(done), 1));
    done.catch(() => {}); // surfaces from the next write()/flush(), not as an unhandled rejection
    this.inFlight.push(done);
    this.tail = write;
  }
}

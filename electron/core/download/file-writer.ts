// Writes a stream of chunks to a file through 1 MiB blocks: network chunks are ~64 KiB, and
// one write per chunk halves throughput on these machines. Each block is written in pieces
// of maxWriteBytes as soon as a piece is full, so a file's last byte is followed by one small
// write, not a whole block's (1000 × 1 MiB: the body took ~0.3 ms to arrive and ~2.7 ms more
// to be written). Up to `blocksInFlight` blocks are queued behind each other: with only two,
// the socket was paused after almost every block (248 pauses for 256 MiB) while a write
// waited for a free thread-pool thread on a busy 2-core machine; four absorb that jitter.
// With a `hashBlock`, each complete block is offered for hashing on the hashing thread: the
// bytes are hashed from the block itself, and the block is reused once written and hashed.
// With a `syncBehind`, completed writes are flushed to the disk in the background.
import type { FileHandle } from 'node:fs/promises';
import { writeError } from '../errors.ts';
import type { ReelpackError } from '../errors.ts';
import { maxWriteBytes, writeFully } from '../file-write.ts';
import type { SyncBehind } from '../fs-sync.ts';
import { blockBytes, copyIntoBlock, releaseBlock, takeBlock } from '../sha256-thread.ts';

/** Hashes `block` (file bytes at `position`) and resolves when it may be reused; undefined if it was not taken. */
export type BlockHasher = (block: Buffer, position: number) => Promise<void> | undefined;

export const writeBlockBytes = blockBytes;
const blocksInFlight = 4;
const maxBufferAgeMs = 1000;

export class BufferedFileWriter {
  private readonly file: FileHandle;
  /** File position of the current block's first byte. */
  private position: number;
  /** End of the bytes whose write has completed (in the page cache: they survive kill -9). */
  writtenUpTo: number;
  private readonly hashBlock: BlockHasher | undefined;
  private readonly syncBehind: SyncBehind | undefined;
  private current: Buffer = takeBlock();
  private used = 0;
  /** Bytes of the current block already queued for writing, and those writes. */
  private queued = 0;
  private blockWrites: Promise<void>[] = [];
  private readonly free: Buffer[] = [];
  /** Complete blocks not yet written and hashed, oldest first. */
  private readonly inFlight: Promise<void>[] = [];
  /** The last write queued: each starts after the one before it. */
  private tail: Promise<void>;
  /** The rest of a chunk that is waiting for a free block. */
  private waiting: Promise<void> | null = null;
  private lastWriteAt = Date.now();
  /**
   * The first write that failed. A write error is otherwise seen only when a block comes back,
   * and on a link slower than the disk no write ever waits for one: a full disk was noticed
   * when the whole body had arrived.
   */
  private failure: ReelpackError | null = null;
  private readonly path: string;

  /**
   * `gate`: nothing reaches the file before it resolves (the journal must know the validator
   * first). `path` names the file in write errors.
   */
  constructor(file: FileHandle, position: number, options: { gate?: Promise<void>; hashBlock?: BlockHasher; syncBehind?: SyncBehind; path?: string } = {}) {
    const gate = options.gate ?? Promise.resolve();
    this.path = options.path ?? 'the file being downloaded';
    this.file = file;
    this.hashBlock = options.hashBlock;
    this.syncBehind = options.syncBehind;
    this.position = position;
    this.writtenUpTo = position;
    // A gate that fails (the journal could not be written, the part file not emptied) fails
    // every write as a write error: the destination is failing, not the network.
    this.tail = gate.catch((error: unknown) => {
      throw (this.failure ??= writeError(error, this.path));
    });
    this.tail.catch(() => {});
  }

  /**
   * Copies `chunk` in; the caller must not write again until a returned promise settles.
   * Returns undefined when the caller may go on at once, or a promise when it must wait
   * (every block is queued for writing).
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.used === writeBlockBytes) {
        if (this.inFlight.length >= blocksInFlight) {
          const rest = chunk.subarray(offset);
          const resumed = this.inFlight[0]!.then(() => this.write(rest));
          resumed.catch(() => {}); // the caller gets it; flush() and close() only wait for it
          this.waiting = resumed;
          return resumed;
        }
        this.finishBlock();
      }
      const n = Math.min(chunk.length - offset, writeBlockBytes - this.used);
      copyIntoBlock(this.current, chunk.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
      if (this.used - this.queued >= maxWriteBytes) this.queueWrite();
    }
    if (this.used === writeBlockBytes && this.inFlight.length < blocksInFlight) this.finishBlock();
    // On a slow link a piece takes long to fill: when bytes arrive more than a second after
    // the last write, write what we have, so a crash loses little more than a second's worth.
    else if (this.used > this.queued && Date.now() - this.lastWriteAt > maxBufferAgeMs) this.queueWrite();
    return undefined;
  }

  /** End of the bytes accepted so far (buffered or written). */
  get acceptedUpTo(): number {
    return this.position + this.used;
  }

  /**
   * End of the written bytes of complete blocks: the current block is offered for hashing
   * once complete, so a follower that reads the file back should stop here.
   */
  get completeUpTo(): number {
    return Math.min(this.writtenUpTo, this.position);
  }

  /**
   * Writes (and hashes) everything buffered and waits for it. A chunk still waiting for a free
   * block (its body failed meanwhile) goes in first: every byte that reaches the file is hashed,
   * so a retry can go on from this hash and the file's size.
   */
  async flush(): Promise<void> {
    await this.waiting?.catch(() => {});
    if (this.used > 0) this.finishBlock();
    await this.tail;
    await Promise.all(this.inFlight);
  }

  /** Gives the blocks back once nothing is in flight; the writer cannot be used afterwards. */
  async close(): Promise<void> {
    await this.waiting?.catch(() => {});
    await Promise.allSettled([...this.inFlight, ...this.blockWrites]);
    this.free.forEach(releaseBlock);
    this.free.length = 0;
    releaseBlock(this.current);
    this.used = 0;
    this.queued = 0;
  }

  /** Queues the write of the current block's bytes not yet queued. */
  private queueWrite(): void {
    const block = this.current;
    const from = this.queued;
    const length = this.used - from;
    const position = this.position + from;
    this.queued = this.used;
    this.lastWriteAt = Date.now();
    // Chained, not parallel: writtenUpTo only ever covers a contiguous prefix, and a failed
    // write (ENOSPC…) fails every write queued behind it.
    const write = this.tail.then(() => writeFully(this.file, block.subarray(from), length, position).catch((error: unknown) => {
      this.failure ??= writeError(error, this.path);
      throw this.failure;
    })).then(() => {
      this.writtenUpTo = position + length;
      this.syncBehind?.wrote(length);
    });
    write.catch(() => {}); // surfaces through the block's promise and the next write()
    this.blockWrites.push(write);
    this.tail = write;
  }

  /** The current block is complete (full, or the end of the data): write the rest, hash it, start a new one. */
  private finishBlock(): void {
    if (this.used > this.queued) this.queueWrite();
    const block = this.current;
    const length = this.used;
    const position = this.position;
    const writes = this.blockWrites;
    this.blockWrites = [];
    this.position += length;
    this.current = this.free.pop() ?? takeBlock();
    this.used = 0;
    this.queued = 0;
    const hashed = this.hashBlock?.(block.subarray(0, length), position);
    const done = Promise.all([...writes, hashed])
      .then(() => void this.free.push(block))
      .finally(() => void this.inFlight.splice(this.inFlight.indexOf(done), 1));
    done.catch(() => {}); // surfaces from the next write()/flush(), not as an unhandled rejection
    this.inFlight.push(done);
  }
}

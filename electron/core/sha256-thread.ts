// SHA-256 on a worker thread. Hashing every downloaded byte on the event loop took about a
// third of the CLI's CPU (28 % in a profile of 40 × 8 MiB), time in which no socket was read.
// The second core does it here instead. Blocks are handed over in SharedArrayBuffers
// (`sharedBlock`), so nothing is copied; each update resolves once the thread has consumed
// its block, and the caller reuses the block only then. Updates to one hash are applied in
// the order they were sent: one thread, one message queue.
//
// The thread's code is a string (`eval: true`), not a file: it then runs the same from the
// .ts sources, the CLI bundle, Electron's main process and the zip worker, with nothing to
// locate on disk. It is tiny and uses node:crypto only.
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { ReelpackError } from './errors.ts';

const threadSource = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
const hashFor = (id) => { let h = hashes.get(id); if (!h) hashes.set(id, h = createHash('sha256')); return h; };
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') { hashFor(m.id).update(new Uint8Array(m.buffer, m.offset, m.length)); parentPort.postMessage({ seq: m.seq }); }
    else if (m.op === 'copy') { hashes.set(m.to, hashFor(m.id).copy()); }
    else if (m.op === 'digest') { const hex = hashFor(m.id).digest('hex'); hashes.delete(m.id); parentPort.postMessage({ seq: m.seq, hex }); }
    else if (m.op === 'drop') { hashes.delete(m.id); }
  } catch (error) { parentPort.postMessage({ seq: m.seq, error: String(error && error.message || error) }); }
});`;

interface Pending {
  resolve: (hex: string | undefined) => void;
  reject: (error: Error) => void;
}

/** The one hashing thread of this process, started on first use; it does not keep the process alive when idle. */
class HashThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextSeq = 1;
  private nextId = 1;
  /** Bumped when a thread dies: hashes it held are gone, and must not silently restart empty. */
  generation = 0;

  newId(): number {
    return this.nextId++;
  }

  post(message: Record<string, unknown>): void {
    this.start().postMessage(message);
  }

  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<string | undefined> {
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      const worker = this.start();
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...message, seq }, transfer);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(threadSource, { eval: true, name: 'reelpack-sha256' });
    worker.on('message', (m: { seq: number; hex?: string; error?: string }) => {
      const waiter = this.pending.get(m.seq);
      if (!waiter) return;
      this.pending.delete(m.seq);
      if (this.pending.size === 0) worker.unref();
      if (m.error) waiter.reject(new ReelpackError('INTERNAL', `hashing failed: ${m.error}`));
      else waiter.resolve(m.hex);
    });
    const fail = (error: Error) => {
      // Every hash in flight is lost with the thread; the next use starts a new one.
      if (this.worker !== worker) return;
      this.worker = null;
      this.generation++;
      for (const waiter of this.pending.values()) waiter.reject(new ReelpackError('INTERNAL', `hashing thread stopped: ${error.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker's port again, and a
    // process whose thread only ever got posts (a hash dropped before any update: a job that
    // failed at once) never exited.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

const thread = new HashThread();

export const blockBytes = 1024 * 1024;
const pooledBlocksMax = 16;
const pool: Buffer[] = [];

/**
 * A 1 MiB block the hashing thread can read without a copy; give it back with
 * `releaseBlock`. Blocks are pooled, not left to the garbage collector: a SharedArrayBuffer
 * once sent to the thread lives until both threads collect it, and the hashing thread
 * allocates so little that it hardly ever does (RSS grew by 170 MB on 40 files without it).
 */
export function takeBlock(): Buffer {
  return pool.pop() ?? Buffer.from(new SharedArrayBuffer(blockBytes));
}

export function releaseBlock(block: Buffer): void {
  if (pool.length < pooledBlocksMax && block.length === blockBytes) pool.push(block);
}

/**
 * Copies all of `source` into `block` at `offset`. Not `block.set(source, offset)`: V8 copies
 * into shared memory with a slow word-by-word loop (relaxed atomics), while Buffer#fill with a
 * source exactly as long as the range is one native memcpy. Downloading 1 GiB (~5 000 copies of
 * ~200 KiB, timed in the process), the copies took 700–800 ms with set() and 136–147 ms with
 * fill(). `block` must be a Buffer (a plain Uint8Array's fill would write zeros) and `source`
 * must not overlap it (memcpy, not memmove). An empty source is an empty range: nothing happens.
 */
export function copyIntoBlock(block: Buffer, source: Uint8Array, offset: number): void {
  block.fill(source, offset, offset + source.length);
}

/** An incremental SHA-256 computed on the hashing thread. */
export class Sha256 {
  private readonly id = thread.newId();
  private readonly generation = thread.generation;
  private finished = false;

  private check(): void {
    if (this.finished) throw new Error('Sha256 used after digest');
    if (this.generation !== thread.generation) throw new ReelpackError('INTERNAL', 'hashing thread stopped; the hash is lost');
  }

  /**
   * Adds `data` to the hash. Resolves when the thread is done with it: a block from
   * `sharedBlock` must not be changed before. Other buffers are copied when sent.
   */
  async update(data: Uint8Array): Promise<void> {
    this.check();
    if (data.buffer instanceof SharedArrayBuffer) {
      await thread.request({ op: 'update', id: this.id, buffer: data.buffer, offset: data.byteOffset, length: data.byteLength });
    } else {
      const copy = new Uint8Array(data).buffer; // a Buffer may be a view into a shared pool
      await thread.request({ op: 'update', id: this.id, buffer: copy, offset: 0, length: data.byteLength }, [copy]);
    }
  }

  /** An independent hash that continues from this one's state after every update sent so far. */
  copy(): Sha256 {
    this.check();
    const copy = new Sha256();
    thread.post({ op: 'copy', id: this.id, to: copy.id });
    return copy;
  }

  /** The hex digest of everything passed to update(); the hash cannot be used afterwards. */
  async digest(): Promise<string> {
    this.check();
    this.finished = true;
    return (await thread.request({ op: 'digest', id: this.id }))!;
  }

  /** Frees the thread's state for a hash that will not be finished. */
  dispose(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.generation === thread.generation) thread.post({ op: 'drop', id: this.id });
  }
}

/** Sees each block read for hashing (bytes and file offset), before the block is reused. */
export type BlockInspector = (block: Uint8Array, position: number) => void;

/**
 * Adds bytes [start, end) of a file to `hash`, reading the next block while the thread
 * hashes the one before. Fails if the file is shorter.
 */
export async function hashFileRange(path: string, start: number, end: number, hash: Sha256, inspect?: BlockInspector): Promise<Sha256> {
  if (end <= start) return hash;
  const file = await open(path, 'r');
  const blocks = [takeBlock(), takeBlock()];
  const hashing: Array<Promise<void> | undefined> = [undefined, undefined];
  try {
    for (let position = start, turn = 0; position < end; turn ^= 1) {
      await hashing[turn];
      const block = blocks[turn]!;
      const { bytesRead } = await file.read(block, 0, Math.min(block.length, end - position), position);
      if (bytesRead === 0) throw new ReelpackError('SIZE_MISMATCH', `${path} ended at ${position} bytes, expected ${end}`);
      hashing[turn] = hash.update(block.subarray(0, bytesRead));
      inspect?.(block.subarray(0, bytesRead), position); // read-only, like the hashing thread
      position += bytesRead;
    }
    await Promise.all(hashing);
    return hash;
  } finally {
    await Promise.allSettled(hashing);
    blocks.forEach(releaseBlock);
    await file.close();
  }
}

const followPollMs = 25;

/**
 * Hashes a file while something else writes it front to back (or fills it in, as segmented
 * downloads do): every `followPollMs` it hashes, from the page cache, the bytes that
 * `writtenUpTo()` says are in the file. `finish` hashes what is left and gives the digest,
 * so the hash is of the bytes in the file and little of it is left for the end.
 * A writer that holds the very next bytes to hash can `offer` its block instead: hashed from
 * memory, those bytes need no read back (a segmented download on one connection read its
 * whole file back, ~0.25 s of CPU per GiB).
 */
export class FileHashFollower {
  private readonly hash = new Sha256();
  private hashed = 0;
  /** A read from the file is under way: offers wait for the next turn (they would be out of order). */
  private reading = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private finalSize: number | null = null;
  private readonly running: Promise<void>;
  private readonly path: string;
  private readonly writtenUpTo: () => number;
  private readonly inspect: BlockInspector | undefined;

  /** `inspect` sees every block as it is read, in file order (see read-behind-check.ts). */
  constructor(path: string, writtenUpTo: () => number, inspect?: BlockInspector) {
    this.path = path;
    this.writtenUpTo = writtenUpTo;
    this.inspect = inspect;
    this.running = this.run();
    this.running.catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const upTo = this.finalSize ?? this.writtenUpTo();
      if (upTo > this.hashed) {
        this.reading = true;
        try {
          await hashFileRange(this.path, this.hashed, upTo, this.hash, this.inspect);
        } finally {
          this.reading = false;
        }
        this.hashed = upTo;
      } else if (this.finalSize !== null) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, followPollMs);
        });
        this.wake = null;
      }
    }
  }

  /**
   * Hashes `block`, the file's bytes at `position`, from memory if they are the very next to
   * hash: resolves when the block may be reused. Otherwise returns undefined, and the bytes
   * are read back once written. Not for a follower with `inspect`, which must see the file.
   */
  offer(block: Uint8Array, position: number): Promise<void> | undefined {
    if (this.reading || this.stopped || this.finalSize !== null || position !== this.hashed || this.inspect) return undefined;
    this.hashed += block.length;
    return this.hash.update(block);
  }

  /** The file is complete at `size` bytes: hash the rest; resolves with the hex digest. */
  async finish(size: number): Promise<string> {
    this.finalSize = size;
    this.wake?.();
    await this.running;
    if (this.stopped) throw new ReelpackError('CANCELLED', 'hashing stopped');
    return this.hash.digest();
  }

  /** Abandons the hash; resolves once no read of the file is in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running.catch(() => {});
    this.hash.dispose();
  }
}

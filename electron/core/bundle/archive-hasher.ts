// SHA-256 of an archive, computed on a worker thread while the archive is written: hashing
// (~1.9 GiB/s) on the zipping thread would cost about a third of STORE throughput; on its own
// thread it overlaps with reading, CRC-32 and writing. Chunks are copied (the original is still
// being written) and the copy's memory is transferred, not cloned.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const hashThreadSource = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (chunk) => {
  if (chunk === null) parentPort.postMessage(hash.digest('hex'));
  else hash.update(chunk);
});
`;

export class ArchiveHasher {
  private readonly thread = new Worker(hashThreadSource, { eval: true });

  constructor() {
    this.thread.unref();
  }

  update(chunk: Buffer): void {
    const copy = new Uint8Array(chunk);
    this.thread.postMessage(copy, [copy.buffer]);
  }

  /** The hex digest of everything passed to update(); ends the thread. */
  async digest(): Promise<string> {
    const reply = once(this.thread, 'message');
    this.thread.postMessage(null);
    const [hex] = (await reply) as [string];
    await this.thread.terminate();
    return hex;
  }

  destroy(): void {
    void this.thread.terminate();
  }
}

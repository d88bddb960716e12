// Writes one archive with yazl (inside the zip worker). Entries stream from their files as they
// are added; the trailer (manifest, SHA256SUMS) goes last; the result is fsynced, read back and
// checked before close() resolves. yazl by itself never forwards a source error (the archive
// stalls forever) and has no abort, so this class owns both: every failure tears the archive
// down — streams destroyed, the partial file deleted — and is reported once.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ReelpackError, toReelpackError, writeError } from '../errors.ts';
import { FileHashFollower } from '../sha256-thread.ts';
import { noteConsumedBytes } from '../gc-pacer.ts';
import { SyncBehind, syncFile } from '../fs-sync.ts';
import { PooledFileReader, pooledReadMinBytes, releaseChunk } from './pooled-file-reader.ts';
import { ReadBehindCheck } from './read-behind-check.ts';
import { verifyWrittenArchive } from './verify-archive.ts';
import type { ExpectedEntry } from './verify-archive.ts';
import { crc32Chunk, yazl } from './yazl-native-crc.ts';

export interface WriterEntry {
  /** Entry name: a safe relative path. */
  name: string;
  sourcePath: string;
  size: number;
  compress: boolean;
  mtimeMs: number;
}

export interface TrailerEntry {
  name: string;
  text: string;
}

export interface WriterProgress {
  bytesIn: number;
  bytesOut: number;
  entries: number;
}

export interface WriterHooks {
  /** An entry's source was read completely: its CRC-32 is known (the manifest needs it). */
  onEntryRead(entry: ExpectedEntry): void;
  onProgress(progress: WriterProgress): void;
  onVerifying(): void;
  onError(error: ReelpackError): void;
}

// DEFLATE and small sources (larger STORE sources are read into pooled 1 MiB chunks, see
// pooled-file-reader.ts).
const readChunk = 1024 * 1024; // 16× Node's default: fewer trips through yazl's stream chain
const minReadChunk = 16 * 1024;
// Two read chunks. 8 MiB let ~8 chunks queue, long enough for minor GCs to promote them:
// their memory then waited for a full GC (worker peak PSS zipping 1 GiB: 118–127 MB; now
// 72–77 MB, no slower). A fixed glibc mmap threshold (MALLOC_MMAP_THRESHOLD_) saved ~10 MB
// more but made the sink 30 % slower (page faults on every fresh 1 MiB buffer): not worth it.
const writeBuffer = 2 * 1024 * 1024;
const progressIntervalMs = 100;

/**
 * A failed archive write, said as what to do: too large for the file system (FAT32's 4 GiB) is
 * answered by volumes, which a resumed job may still take (adoptArchiveSettings in the job runner).
 */
function archiveWriteError(error: unknown, partPath: string): ReelpackError {
  if ((error as NodeJS.ErrnoException).code === 'EFBIG') {
    return new ReelpackError('WRITE_FAILED', `the archive is larger than the destination's file system allows (FAT32 holds at most 4 GiB a file): ${partPath}; run again with volumes (--volume-size 4000m) to go on without downloading again, or choose a folder on another drive`, { cause: error });
  }
  return writeError(error, partPath);
}

export class ZipArchiveWriter {
  readonly partPath: string;
  private readonly hooks: WriterHooks;
  private readonly zip = new yazl.ZipFile();
  private readonly out: fs.WriteStream;
  private readonly outClosed: Promise<unknown>;
  /** Every entry in archive order; a file's CRC-32 is filled in once its source is read. */
  private readonly written: ExpectedEntry[] = [];
  private entriesRead = 0;
  private activeSource: Readable | null = null;
  private readonly writeOut: (chunk: Buffer) => void;
  private failure: ReelpackError | null = null;
  private teardown: Promise<void> | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private lastProgress = 0;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly syncBehind = new SyncBehind(() => syncFile(this.partPath));
  /**
   * The archive's SHA-256, taken on the hashing thread from the file as it is written (read
   * back from the page cache): it describes the bytes on disk and costs this thread nothing.
   * Hashing inline took 20–30 % of the writer's CPU; an earlier hash thread fed with copies
   * of every chunk queued 143 MB of them.
   */
  private readonly hashFollower: FileHashFollower;
  /** Fed the follower's blocks: most of the read-back happens while writing. */
  private readonly readBehind: ReadBehindCheck;

  constructor(partPath: string, hooks: WriterHooks) {
    this.partPath = partPath;
    this.hooks = hooks;
    this.out = fs.createWriteStream(partPath, { highWaterMark: writeBuffer });
    this.outClosed = once(this.out, 'close');
    this.outClosed.catch(() => {});
    this.readBehind = new ReadBehindCheck(this.written);
    this.hashFollower = new FileHashFollower(partPath, () => this.out.bytesWritten, (block, position) => this.readBehind.push(block, position));
    this.out.on('error', (error) => this.fail(archiveWriteError(error, partPath)));
    this.zip.on('error', (error: Error) => this.fail(new ReelpackError('ZIP_FAILED', `zip error: ${error.message}`, { cause: error })));
    // Piped by hand, not with pipe(): each write's callback gives a pooled source chunk back
    // (releaseChunk ignores yazl's own buffers). Writes complete in order.
    const output = this.zip.outputStream as NodeJS.ReadableStream & NodeJS.EventEmitter;
    this.writeOut = (chunk: Buffer) => {
      this.bytesOut += chunk.length;
      this.syncBehind.wrote(chunk.length);
      const more = this.out.write(chunk, (error) => {
        if (!error) releaseChunk(chunk);
      });
      if (!more) output.pause();
    };
    output.on('data', this.writeOut);
    this.out.on('drain', () => output.resume());
    output.once('end', () => this.out.end());
  }

  add(entry: WriterEntry): void {
    if (this.failure) return;
    const options = { size: entry.size, compress: entry.compress, mtime: new Date(entry.mtimeMs), mode: 0o100644 };
    const record: ExpectedEntry = { name: entry.name, size: entry.size, crc32: -1 };
    this.written.push(record);
    this.zip.addReadStreamLazy(entry.name, options, (callback) => {
      if (this.failure) return;
      callback(null, this.openSource(entry, record));
    });
  }

  private openSource(entry: WriterEntry, record: ExpectedEntry): Readable {
    // A small file gets a small buffer: every read allocates one of highWaterMark bytes, and
    // 1 MiB for each of 25 000 files of 2 KB kept V8's collector busy for 8 of 33 s.
    const pooled = !entry.compress && entry.size >= pooledReadMinBytes;
    const source = !pooled
      ? fs.createReadStream(entry.sourcePath, { highWaterMark: Math.min(readChunk, Math.max(entry.size + 1, minReadChunk)) })
      : new PooledFileReader(entry.sourcePath);
    this.activeSource = source;
    let crc = 0;
    let bytes = 0;
    // Our own CRC gives the manifest each entry's CRC without reaching into yazl's internals
    // (crc32Chunk lets yazl reuse it: one pass); the read-back compares it with yazl's record.
    // This listener is added before yazl pipes the stream, so it sees each chunk first.
    source.on('data', (data: Buffer | string) => {
      const chunk = data as Buffer; // no encoding set: always a Buffer
      crc = crc32Chunk(chunk, crc);
      bytes += chunk.length;
      this.bytesIn += chunk.length;
      if (!pooled) noteConsumedBytes(chunk.length); // pooled chunks leave no garbage
      this.reportProgress(false);
    });
    source.on('error', (error: Error) => {
      this.fail(new ReelpackError('ZIP_FAILED', `cannot read ${entry.name}: ${error.message}`, { cause: error }));
    });
    source.on('end', () => {
      if (bytes !== entry.size) {
        this.fail(new ReelpackError('ZIP_FAILED', `file changed size while zipping: ${entry.name} (expected ${entry.size} bytes, read ${bytes})`));
        return;
      }
      record.crc32 = crc;
      this.entriesRead++;
      this.hooks.onEntryRead(record);
    });
    return source;
  }

  private reportProgress(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < progressIntervalMs) {
      // Trailing report: small files pass in one burst, and the figures after it must be shown.
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = null;
        if (!this.failure) this.reportProgress(true);
      }, progressIntervalMs - (now - this.lastProgress)).unref();
      return;
    }
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
    this.lastProgress = now;
    this.hooks.onProgress({ bytesIn: this.bytesIn, bytesOut: this.bytesOut, entries: this.entriesRead });
  }

  /** Appends the trailer, ends the archive, fsyncs and reads it back. Resolves with its size and SHA-256. */
  async close(trailer: readonly TrailerEntry[]): Promise<{ size: number; sha256: string }> {
    try {
      if (this.failure) throw this.failure;
      for (const item of trailer) {
        const data = Buffer.from(item.text, 'utf8');
        this.zip.addBuffer(data, item.name, { compress: true, mtime: new Date(), mode: 0o100644 });
        this.written.push({ name: item.name, size: data.length, crc32: zlib.crc32(data) });
      }
      this.zip.end();
      await this.outClosed;
      if (this.failure) throw this.failure;
      this.reportProgress(true);
      this.hooks.onVerifying();
      // The rest of the read-back (from the page cache) and the fsync (to the disk) run at the
      // same time. The follower reads the tail first; the check then reads only the central
      // directory and the entries the read-behind check could not follow (the trailer).
      await this.syncBehind.settled();
      const readBack = this.hashFollower.finish(this.bytesOut).then(async (sha256) => {
        await verifyWrittenArchive(this.partPath, this.written, this.bytesOut, this.readBehind.checked);
        return sha256;
      });
      const [sha256] = await Promise.all([readBack, syncFile(this.partPath)]);
      return { size: this.bytesOut, sha256 };
    } catch (error) {
      this.fail(toReelpackError(error));
      await this.teardown;
      throw this.failure ?? error;
    }
  }

  /** Cancel: stop reading and writing now and delete the partial archive. */
  async abort(): Promise<void> {
    this.fail(new ReelpackError('CANCELLED', `cancelled: ${this.partPath}`), false);
    await this.teardown;
  }

  private fail(error: ReelpackError, report = true): void {
    if (this.failure) return;
    this.failure = error;
    this.teardown = this.destroy();
    if (report) this.hooks.onError(error);
  }

  private async destroy(): Promise<void> {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    const hashStopped = this.hashFollower.stop();
    this.activeSource?.destroy();
    const output = this.zip.outputStream as NodeJS.ReadableStream;
    output.off('data', this.writeOut);
    output.pause();
    this.out.destroy();
    await this.outClosed.catch(() => {});
    await hashStopped;
    await this.syncBehind.settled(); // its descriptor would keep Windows from deleting the file
    await fsp.rm(this.partPath, { force: true });
  }
}


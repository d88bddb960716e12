// A small ZIP reader for checking our own archives (and any ZIP given to `reelpack verify`):
// end records (incl. ZIP64), the central directory, local headers, and entry data streamed in
// large chunks with the next read in flight while the current one is checked. STORE and
// DEFLATE only, which is all Reelpack writes. Kept in the product so verification needs no
// reader dependency at run time; tests cross-check it against yauzl, unzip, 7z and Python.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { blockBytes, releaseBlock, takeBlock } from '../sha256-thread.ts';

const eocdSignature = 0x06054b50;
const zip64LocatorSignature = 0x07064b50;
const zip64EocdSignature = 0x06064b50;
const centralSignature = 0x02014b50;
export const localSignature = 0x04034b50;
export const dataDescriptorSignature = 0x08074b50;
const readChunk = 4 * 1024 * 1024;

export interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface CentralDirectory {
  entries: CentralEntry[];
  offset: number;
  size: number;
}

export class ZipFormatError extends Error {}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ZipFormatError(`unexpected end of file at offset ${position + bytesRead}`);
  return buffer;
}

function readUInt64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`64-bit value too large: ${value}`);
  return Number(value);
}

/** Reads the end records and the whole central directory. */
export async function readCentralDirectory(fh: FileHandle, fileSize: number): Promise<CentralDirectory> {
  if (fileSize < 22) throw new ZipFormatError(`too small for a zip file: ${fileSize} bytes`);
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(fh, tailStart, tailLength);
  let eocd = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === eocdSignature && i + 22 + tail.readUInt16LE(i + 20) === tailLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('end of central directory record not found');
  if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) throw new ZipFormatError('multi-disk archives are not supported');
  let count = tail.readUInt16LE(eocd + 10);
  let size = tail.readUInt32LE(eocd + 12);
  let offset = tail.readUInt32LE(eocd + 16);
  const locator = eocd - 20;
  if (locator >= 0 && tail.readUInt32LE(locator) === zip64LocatorSignature) {
    const zip64Offset = readUInt64(tail, locator + 8);
    const record = await readAt(fh, zip64Offset, 56);
    if (record.readUInt32LE(0) !== zip64EocdSignature) throw new ZipFormatError(`no ZIP64 end record at offset ${zip64Offset}`);
    count = readUInt64(record, 32);
    size = readUInt64(record, 40);
    offset = readUInt64(record, 48);
  } else if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    throw new ZipFormatError('ZIP64 end locator missing');
  }
  if (offset + size > fileSize) throw new ZipFormatError(`central directory past end of file: ${offset}+${size} > ${fileSize}`);
  const directory = await readAt(fh, offset, size);
  const entries: CentralEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > size || directory.readUInt32LE(at) !== centralSignature) throw new ZipFormatError(`bad central directory record ${i}`);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const entry: CentralEntry = {
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      crc32: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    };
    applyZip64Extra(entry, directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  if (at !== size) throw new ZipFormatError(`central directory size mismatch: ${at} != ${size}`);
  return { entries, offset, size };
}

function applyZip64Extra(entry: CentralEntry, extra: Buffer): void {
  for (let at = 0; at + 4 <= extra.length; ) {
    const tag = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (tag === 0x0001) {
      let field = at + 4;
      const next = (): number => {
        if (field + 8 > at + 4 + length) throw new ZipFormatError(`short ZIP64 extra field: ${entry.name}`);
        const value = readUInt64(extra, field);
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + length;
  }
}

/** Checks the local header against the central record; returns where the entry's data starts. */
export async function entryDataStart(fh: FileHandle, entry: CentralEntry): Promise<number> {
  const header = await readAt(fh, entry.localHeaderOffset, 30);
  if (header.readUInt32LE(0) !== localSignature) throw new ZipFormatError(`no local header for ${entry.name} at offset ${entry.localHeaderOffset}`);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const name = (await readAt(fh, entry.localHeaderOffset + 30, nameLength)).toString('utf8');
  if (name !== entry.name) throw new ZipFormatError(`local header name differs: ${JSON.stringify(name)} != ${JSON.stringify(entry.name)}`);
  return entry.localHeaderOffset + 30 + nameLength + extraLength;
}

async function readInto(fh: FileHandle, buffer: Buffer, position: number): Promise<Buffer> {
  const { bytesRead } = await fh.read(buffer, 0, buffer.length, position);
  if (bytesRead !== buffer.length) throw new ZipFormatError(`unexpected end of file at offset ${position + bytesRead}`);
  return buffer;
}

/**
 * Reads `length` bytes from `start` in large chunks, the next read running while the caller
 * works on the current one. With `reuse`, two buffers alternate (fresh memory costs page
 * faults): a chunk is valid only until the following one is requested.
 */
export async function* readRange(fh: FileHandle, start: number, length: number, reuse = false): AsyncGenerator<Buffer> {
  // Reused chunks come from the shared block pool: two fresh 4 MiB buffers per entry left
  // 60 MB of garbage in the zip worker while it read back a 40-entry archive.
  const spare = reuse ? [takeBlock(), takeBlock()] : [];
  const chunkBytes = reuse ? blockBytes : readChunk;
  let position = start;
  let turn = 0;
  const end = start + length;
  const next = (): Promise<Buffer> | null => {
    if (position >= end) return null;
    const n = Math.min(chunkBytes, end - position);
    const buffer = reuse ? spare[turn++ % 2]!.subarray(0, n) : Buffer.allocUnsafe(n);
    const promise = readInto(fh, buffer, position);
    position += n;
    return promise;
  };
  let pending: Promise<Buffer> | null = null;
  try {
    pending = next();
    while (pending) {
      const chunk = await pending;
      pending = next();
      yield chunk;
    }
  } finally {
    await pending?.catch(() => {}); // a read still filling a block must end before the block is reused
    spare.forEach(releaseBlock);
  }
}

/** Streams an entry's uncompressed bytes to `onData`; a chunk is valid only during the call. */
export async function readEntryData(fh: FileHandle, entry: CentralEntry, onData: (chunk: Buffer) => void): Promise<void> {
  const start = await entryDataStart(fh, entry);
  if (entry.method === 0) {
    for await (const chunk of readRange(fh, start, entry.compressedSize, true)) onData(chunk);
  } else if (entry.method === 8) {
    await pipeline(Readable.from(readRange(fh, start, entry.compressedSize)), zlib.createInflateRaw(), async (inflated: AsyncIterable<Buffer>) => {
      for await (const chunk of inflated) onData(chunk);
    });
  } else {
    throw new ZipFormatError(`unsupported compression method ${entry.method}: ${entry.name}`);
  }
}

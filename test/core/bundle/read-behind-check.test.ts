// The read-behind check follows an archive as yazl writes it. What it reports as checked lets
// the read-back after close skip an entry, so it must only ever report what the bytes show:
// these tests feed it real yazl output, whole and corrupted, in odd-sized pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ReadBehindCheck } from '../../../electron/core/bundle/read-behind-check.ts';
import { verifyWrittenArchive } from '../../../electron/core/bundle/verify-archive.ts';
import type { ExpectedEntry } from '../../../electron/core/bundle/verify-archive.ts';
import { readCentralDirectory } from '../../../electron/core/bundle/zip-reader.ts';
import { yazl } from '../../../electron/core/bundle/yazl-native-crc.ts';
import { makeTempDir } from './bundle-test-kit.ts';

interface Source {
  name: string;
  data: Buffer;
  compress: boolean;
}

/** yazl's output for `sources`, each streamed (data descriptor), as one buffer. */
async function zipWithYazl(sources: readonly Source[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const s of sources) zip.addReadStream(Readable.from([s.data]), s.name, { size: s.data.length, compress: s.compress, mtime: new Date(0) });
  zip.end();
  const parts: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Feeds `bytes` in pieces of pseudo-random length (1 byte to 70 KiB), as the follower would. */
function feed(check: ReadBehindCheck, bytes: Buffer, seed = 7): void {
  let state = seed;
  for (let at = 0; at < bytes.length; ) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const n = Math.min(bytes.length - at, 1 + (state % 70_000));
    check.push(bytes.subarray(at, at + n), at);
    at += n;
  }
}

const expectedOf = (sources: readonly Source[]): ExpectedEntry[] =>
  sources.map((s) => ({ name: s.name, size: s.data.length, crc32: zlib.crc32(s.data) }));

test('the read-behind check finds every STORE entry at its central-directory offset, and stops at DEFLATE', async () => {
  const sources: Source[] = [
    { name: 'clip one.mp4', data: randomBytes(300_000), compress: false },
    { name: 'empty.mp4', data: Buffer.alloc(0), compress: false },
    { name: 'sub/名前.mp4', data: randomBytes(1_200_000), compress: false },
    { name: 'params.json', data: Buffer.from('{"a":1}'.repeat(5000)), compress: true },
    { name: 'after.mp4', data: randomBytes(1000), compress: false },
  ];
  const archive = await zipWithYazl(sources);
  const dir = await makeTempDir('read-behind');
  try {
    const file = path.join(dir, 'a.zip');
    await fs.writeFile(file, archive);
    const fh = await fs.open(file, 'r');
    const { entries } = await readCentralDirectory(fh, archive.length).finally(() => fh.close());
    for (const seed of [1, 7, 12345]) {
      const check = new ReadBehindCheck(expectedOf(sources));
      feed(check, archive, seed);
      assert.deepEqual([...check.checked.keys()], [0, 1, 2], `seed ${seed}`);
      for (const [i, found] of check.checked) {
        assert.deepEqual(found, { localHeaderOffset: entries[i]!.localHeaderOffset, size: entries[i]!.size, crc32: entries[i]!.crc32 });
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a corrupted byte is never reported as checked, and the read-back after close catches it', async () => {
  const sources: Source[] = [
    { name: 'a.mp4', data: randomBytes(100_000), compress: false },
    { name: 'b.mp4', data: randomBytes(100_000), compress: false },
    { name: 'c.mp4', data: randomBytes(100_000), compress: false },
  ];
  const archive = await zipWithYazl(sources);
  const bAt = archive.indexOf(sources[1]!.data);
  const corrupted = Buffer.from(archive);
  corrupted[bAt + 5000]! ^= 0x40;
  const check = new ReadBehindCheck(expectedOf(sources));
  feed(check, corrupted);
  assert.deepEqual([...check.checked.keys()], [0], 'b.mp4 fails its descriptor CRC; following ends there');

  const dir = await makeTempDir('read-behind');
  try {
    const file = path.join(dir, 'a.zip');
    await fs.writeFile(file, corrupted);
    await assert.rejects(
      verifyWrittenArchive(file, expectedOf(sources), corrupted.length, check.checked),
      (error: Error & { code?: string }) => error.code === 'VERIFY_FAILED' && /CRC-32 mismatch: b\.mp4/.test(error.message),
    );
    // The contract the writer relies on: an entry checked while writing is not read again.
    const checkedWhole = new ReadBehindCheck(expectedOf(sources));
    feed(checkedWhole, archive);
    assert.equal(checkedWhole.checked.size, 3);
    await verifyWrittenArchive(file, expectedOf(sources), corrupted.length, checkedWhole.checked);
    // A wrong claim (another offset) is not trusted: the entry is read and the damage found.
    const wrongOffset = new Map(checkedWhole.checked);
    wrongOffset.set(1, { ...wrongOffset.get(1)!, localHeaderOffset: 0 });
    await assert.rejects(verifyWrittenArchive(file, expectedOf(sources), corrupted.length, wrongOffset), /CRC-32 mismatch: b\.mp4/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('ZIP64 data descriptors: an entry over 4 GiB and one past the 4 GiB offset are followed', { timeout: 120_000 }, async () => {
  // Streamed straight from yazl to the check: 4 GiB of zeros cost CPU, not disk.
  const bigSize = 2 ** 32 + 5;
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  let bigCrc = 0;
  for (let left = bigSize; left > 0; left -= zeros.length) bigCrc = zlib.crc32(zeros.subarray(0, Math.min(left, zeros.length)), bigCrc);
  async function* bigData(): AsyncGenerator<Buffer> {
    for (let left = bigSize; left > 0; left -= zeros.length) yield zeros.subarray(0, Math.min(left, zeros.length));
  }
  const small = randomBytes(5000);
  const expected: ExpectedEntry[] = [
    { name: 'first.mp4', size: 10, crc32: zlib.crc32(Buffer.alloc(10, 1)) },
    { name: 'big.mp4', size: bigSize, crc32: bigCrc },
    { name: 'after.mp4', size: small.length, crc32: zlib.crc32(small) },
  ];
  const zip = new yazl.ZipFile();
  zip.addReadStream(Readable.from([Buffer.alloc(10, 1)]), 'first.mp4', { size: 10, compress: false });
  zip.addReadStream(Readable.from(bigData()), 'big.mp4', { size: bigSize, compress: false });
  zip.addReadStream(Readable.from([small]), 'after.mp4', { size: small.length, compress: false });
  zip.end();
  const check = new ReadBehindCheck(expected);
  let position = 0;
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) {
    check.push(chunk, position);
    position += chunk.length;
  }
  assert.deepEqual([...check.checked.keys()], [0, 1, 2]);
  assert.equal(check.checked.get(1)!.crc32, bigCrc);
  assert.ok(check.checked.get(2)!.localHeaderOffset > 2 ** 32, 'the last entry starts past 4 GiB');
});

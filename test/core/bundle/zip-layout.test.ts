import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { shouldCompress } from '../../../electron/core/bundle/compression-policy.ts';
import { parseSize } from '../../../electron/core/units.ts';
import { deflateBound, ZipSizeModel } from '../../../electron/core/bundle/zip-layout.ts';
import { readCentralDirectory } from '../../../electron/core/bundle/zip-reader.ts';
import { assertLinearPump, assertNativeCrc, yazl } from '../../../electron/core/bundle/yazl-native-crc.ts';
import { makeTempDir } from './bundle-test-kit.ts';

async function yazlOutput(build: (zip: InstanceType<typeof yazl.ZipFile>) => void): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  build(zip);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test('size model matches yazl byte for byte, also past a 64 KiB central directory', async () => {
  for (const count of [1, 7, 1200]) {
    const model = new ZipSizeModel();
    const data = randomBytes(100);
    const out = await yazlOutput((zip) => {
      for (let i = 0; i < count; i++) {
        const name = `folder/clip-${i}.mp4`;
        zip.addReadStreamLazy(name, { size: data.length, compress: false }, (cb) => cb(null, Readable.from([data])));
        model.add({ nameBytes: Buffer.byteLength(name), size: data.length, compressedSize: data.length, hasDescriptor: true });
      }
      zip.addBuffer(Buffer.from('{"a":1}'), 'manifest.json', { compress: false });
      model.add({ nameBytes: 13, size: 7, compressedSize: 7, hasDescriptor: false });
    });
    assert.equal(model.totalWith(), out.length, `${count} entries`);
  }
});

test('deflateBound bounds zlib raw deflate, incompressible data included', () => {
  for (const size of [0, 1, 1000, 65536, 3_000_000]) {
    const data = randomBytes(size);
    assert.ok(zlib.deflateRawSync(data, { level: 6 }).length <= deflateBound(size), `size ${size}`);
  }
});

test('yazl computes CRC-32 with zlib.crc32, and its CRCs are right', async () => {
  assertNativeCrc();
  const dir = await makeTempDir('crc');
  try {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const out = await yazlOutput((zip) => zip.addReadStream(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), 'a.bin', { compress: false }));
    const file = path.join(dir, 'a.zip');
    await fs.writeFile(file, out);
    const fh = await fs.open(file);
    const { entries } = await readCentralDirectory(fh, out.length);
    await fh.close();
    assert.equal(entries[0]!.crc32, zlib.crc32(data));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('parseSize reads k/m/g/t as powers of 1024 and rejects junk', () => {
  assert.equal(parseSize('123'), 123);
  assert.equal(parseSize('500k'), 500 * 1024);
  assert.equal(parseSize('4000m'), 4000 * 1024 ** 2);
  assert.equal(parseSize('2g'), 2 * 1024 ** 3);
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  for (const bad of ['', 'g', '-1', '0', '2x', '1e9']) {
    assert.throws(() => parseSize(bad), (error: { code?: string; message?: string }) => error.code === 'USAGE' && /bad size/.test(error.message ?? ''), bad);
  }
});

test('media is stored, everything else deflated', () => {
  for (const name of ['a.mp4', 'x/B.MOV', 'c.webm', 'd.mp3', 'e.jpg', 'f.png', 'g.zip', 'h.7z', 'i.gz']) assert.equal(shouldCompress(name), false, name);
  for (const name of ['a.json', 'b.txt', 'c.srt', 'd.wav', 'noext', '.hidden']) assert.equal(shouldCompress(name), true, name);
});

test('yazl is patched to write its next entry without rescanning them all, and 20 000 entries come out whole and in order', async () => {
  assertLinearPump();
  const names = Array.from({ length: 20_000 }, (_, i) => `clip ${i}.mp4`);
  const out = await yazlOutput((zip) => {
    for (const [i, name] of names.entries()) zip.addReadStream(Readable.from([Buffer.from(`${i}`)]), name, { compress: false, size: `${i}`.length });
  });
  const dir = await makeTempDir('many');
  try {
    const file = path.join(dir, 'many.zip');
    await fs.writeFile(file, out);
    const fh = await fs.open(file);
    const { entries } = await readCentralDirectory(fh, out.length);
    await fh.close();
    assert.deepEqual(entries.map((e) => e.name), names);
    assert.ok(entries.every((e, i) => e.crc32 === zlib.crc32(Buffer.from(`${i}`))));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

// The pooled reader hands the zip writer chunks that are reused once written. A chunk reused
// too early would put another part of a file into the archive, so these tests hold chunks
// unreleased and check that nothing overwrites them, and that released chunks are reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PooledFileReader, releaseChunk } from '../../../electron/core/bundle/pooled-file-reader.ts';
import { makeTempDir } from './bundle-test-kit.ts';

async function readAll(file: string, release: boolean): Promise<{ chunks: Buffer[]; copies: Buffer[] }> {
  const chunks: Buffer[] = [];
  const copies: Buffer[] = [];
  for await (const chunk of new PooledFileReader(file) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    copies.push(Buffer.from(chunk));
    if (release) releaseChunk(chunk);
  }
  return { chunks, copies };
}

test('unreleased chunks are never read into again; released ones are reused', async () => {
  const dir = await makeTempDir('pooled-reader');
  try {
    const data = randomBytes(12 * 1024 * 1024 + 12_345); // more chunks than the pool keeps
    const file = path.join(dir, 'source.bin');
    await fs.writeFile(file, data);

    const held = await readAll(file, false);
    assert.deepEqual(Buffer.concat(held.chunks), data, 'every byte once, in order');
    assert.equal(new Set(held.chunks.map((c) => c.buffer)).size, held.chunks.length, 'each held chunk has memory of its own');
    // A second file read while the first one's chunks are still held must not touch them.
    await readAll(file, true);
    held.chunks.forEach((chunk, i) => assert.deepEqual(chunk, held.copies[i], `held chunk ${i} unchanged`));

    held.chunks.forEach((chunk) => releaseChunk(chunk));
    const again = await readAll(file, true);
    assert.deepEqual(Buffer.concat(again.copies), data);
    const before = new Set(held.chunks.map((c) => c.buffer));
    assert.ok(again.chunks.every((c) => before.has(c.buffer)), 'released chunks are read into again');

    // A chunk released twice must still be handed out once: hold every pooled chunk, then
    // release one of them twice while the pool is empty.
    const drained = await readAll(file, false);
    releaseChunk(drained.chunks[0]!);
    releaseChunk(drained.chunks[0]!);
    const next = await readAll(file, false);
    assert.equal(new Set(next.chunks.map((c) => c.buffer)).size, next.chunks.length, 'no chunk handed out twice');
    for (const chunk of [...drained.chunks, ...next.chunks]) releaseChunk(chunk);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a missing file is an error event, not a hang', async () => {
  const reader = new PooledFileReader('/nonexistent/reelpack/source.bin');
  await assert.rejects(async () => {
    for await (const chunk of reader as AsyncIterable<Buffer>) releaseChunk(chunk);
  }, { code: 'ENOENT' });
});

// BufferedFileWriter: bytes land in order whatever the chunk sizes, pieces are written before
// their block is complete, nothing is written before the gate opens, and each complete block
// is offered for hashing once, in file order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BufferedFileWriter, writeBlockBytes } from '../../../electron/core/download/file-writer.ts';
import { maxWriteBytes } from '../../../electron/core/file-write.ts';
import { tempDir } from '../../helpers/servers.ts';

/**
 * Runs `use` with a new file open for writing in a temporary folder, and a writer made by
 * `makeWriter` on it; afterwards flushes and closes both and returns what the file holds.
 */
async function writeThrough(
  makeWriter: (file: FileHandle) => BufferedFileWriter,
  use: (writer: BufferedFileWriter, path: string) => Promise<void>,
): Promise<{ onDisk: Buffer; writer: BufferedFileWriter }> {
  const dir = await tempDir();
  try {
    const path = join(dir.path, 'out.bin');
    const file = await open(path, 'w');
    const writer = makeWriter(file);
    try {
      await use(writer, path);
      await writer.flush();
    } finally {
      await writer.close();
      await file.close();
    }
    return { onDisk: await readFile(path), writer };
  } finally {
    await dir.remove();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition(); await sleep(2)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
  }
}

test('chunks of any size reach the file in order, and every complete block is hashed once, in order', async () => {
  const data = randomBytes(3 * writeBlockBytes + 123_457);
  const hash = createHash('sha256');
  const offered: Array<[number, number]> = [];
  const hashBlock = (block: Buffer, position: number) => {
    offered.push([position, block.length]);
    hash.update(block);
    return undefined;
  };
  const { onDisk, writer } = await writeThrough((file) => new BufferedFileWriter(file, 0, { hashBlock }), async (writer) => {
    for (let offset = 0, i = 0; offset < data.length; i++) {
      const n = Math.min(data.length - offset, [1, 65_536, 300_000, 7, 1_048_576][i % 5]!);
      const wait = writer.write(data.subarray(offset, offset + n));
      if (wait) await wait;
      offset += n;
    }
  });
  assert.ok(onDisk.equals(data));
  assert.equal(writer.writtenUpTo, data.length);
  assert.deepEqual(offered.map(([position]) => position), [0, 1, 2, 3].map((i) => i * writeBlockBytes));
  assert.equal(offered.reduce((sum, [, length]) => sum + length, 0), data.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
});

test('a full piece is written before its block is complete; nothing is written before the gate opens', async () => {
  let openGate = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const data = randomBytes(maxWriteBytes + 1000);
  const { onDisk, writer } = await writeThrough((file) => new BufferedFileWriter(file, 0, { gate }), async (writer, path) => {
    assert.equal(writer.write(data), undefined);
    await sleep(50);
    assert.equal((await stat(path)).size, 0, 'held back by the gate');
    openGate();
    await until(() => writer.writtenUpTo >= maxWriteBytes, 'the first piece');
    assert.equal(writer.completeUpTo, 0, 'its block is not complete');
  });
  assert.equal(writer.writtenUpTo, data.length);
  assert.equal(writer.completeUpTo, data.length);
  assert.ok(onDisk.equals(data));
});

test('a chunk still waiting for a free block when the body fails is written and hashed by flush(), not after it', async () => {
  const hashed: Buffer[] = [];
  // A busy hashing thread: every block is held ~10 ms, so all blocks are soon in flight.
  const hashBlock = (block: Buffer) => {
    hashed.push(Buffer.from(block));
    return sleep(10);
  };
  const data = randomBytes(8 * writeBlockBytes);
  let given = 0;
  let waiting: Promise<void> | undefined;
  // The body fails after the loop (its consumer is told while that wait is pending): writeThrough flushes and closes.
  const { onDisk } = await writeThrough((file) => new BufferedFileWriter(file, 0, { hashBlock }), async (writer) => {
    while (!waiting) {
      waiting = writer.write(data.subarray(given, given + maxWriteBytes));
      given += maxWriteBytes;
    }
  });
  await waiting;
  assert.ok(onDisk.equals(data.subarray(0, given)), `the file holds every byte given (${onDisk.length} of ${given})`);
  assert.ok(Buffer.concat(hashed).equals(onDisk), 'the hash covers exactly the bytes in the file');
});
